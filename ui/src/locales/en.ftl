# Spokes: the app's words in English. The same IDs are in de.ftl (the catalogue test checks
# both hold the same messages). Menu bar and notification messages (menu-*, notify-*) are read
# by the Rust side too (src-tauri/src/i18n.rs). Syntax: https://projectfluent.org/fluent/guide/

## Shared

untitled = Untitled
a-spoke = A spoke
close = Close
cancel = Cancel
back = Back
done = Done
save = Save
next = Next
opening-blog = Opening your blog…
word-count = { $n ->
    [one] { $n } word
   *[other] { $n } words
}
reading-time = { $minutes } min read
format-link-text = link text
format-your-spoke = (your spoke)
theme-auto = Theme: like the system
theme-light = Theme: light
theme-dark = Theme: dark
save-saved = Saved
save-unsaved = Editing…
save-saving = Saving…
save-error = Not saved: retrying when you type
your-passphrase = Your passphrase
passphrase = Passphrase

## Getting ready after an update (main.ts)

preparing-heading = Getting your blog ready
preparing-text = This version of Spokes keeps each post on its own, so large blogs open at once. Moving your posts happens once and can take a minute for a blog of thousands of posts. Nothing is sent anywhere.
preparing-progress = Moving your posts

## The writing screen

posts-label = Your posts
title-placeholder = Title
preview-label = Preview
preview-tip = The page as readers will see it, beside the text (Ctrl+Shift+P)
offline = Offline
offline-tip = Your writing is saved on this computer. It goes out to your spokes as soon as one can be reached.
publish = Publish
publish-tip = Publish (Ctrl+Enter)
publish-nothing-new = Nothing new to publish: this version is on all your spokes.
schedule = Schedule
schedule-tip = Send it now; readers see it on its date (Ctrl+Enter)
history = History
history-tip = Earlier versions (Ctrl+H)
details = Details
details-tip = Web address, tags and publication date (Ctrl+D)
unpublish = Unpublish
unpublish-tip = Take this post off your spokes (signed, and kept in the history)
delete = Delete
delete-tip = Move this draft to the bin (you can undo)
search-placeholder = Search titles and tags
search-label = Search posts
filter-label = Show
filter-all = All posts
filter-drafts = Drafts
filter-published = Published
filter-changed = Changed since published
focus = Focus
focus-tip = Focus: only the text (Ctrl+Shift+F)
format-bar-label = Formatting
fmt-bold = B
fmt-bold-tip = Bold (Ctrl+B)
fmt-italic = I
fmt-italic-tip = Italic (Ctrl+I)
fmt-heading = H
fmt-heading-tip = Heading (Ctrl+Shift+H)
fmt-link = Link
fmt-link-tip = Link (Ctrl+K)
fmt-quote-tip = Quote (Ctrl+Shift+Q)
fmt-list = List
fmt-list-tip = List (Ctrl+Shift+L)
fmt-code = Code
fmt-code-tip = Code (Ctrl+E)
fmt-image = Image
fmt-image-tip = Picture (Ctrl+Shift+I)
adding-pictures = { $n ->
    [one] Adding the picture…
   *[other] Adding { $n } pictures…
}
settings = Settings
settings-tip = Settings (Ctrl+,)
new-post = New post
new-post-tip = New post (Ctrl+N)
invite-placeholder = Paste an invite (spokes1…)
invite-label = Invite
add-spoke = Add spoke
spokes-heading = Spokes
signed-as = Signed as { $name }
local-only = Only on this computer: readers cannot see it yet. Add a spoke to publish.
local-see = See it as readers will
hosted-by = { $n ->
    [one] Hosted by { $n } spoke.
   *[other] Hosted by { $n } spokes.
}
state-draft = Draft
state-unpublished = Unpublished
state-changed = Changed
state-scheduled = Scheduled
state-published = Published
list-no-match = No post matches.
list-empty = No posts yet.
post-status-draft = Draft · only on this computer until you publish it
post-status-unpublished = Unpublished · only on this computer
post-status-changed = Published · your latest changes are not published yet
post-status-scheduled = Scheduled · readers see it from { $day }
reach-all = { $total ->
    [one] on your spoke
   *[other] on all { $total } of your spokes
}
reach-local = only on this computer until you add a spoke for readers
reach-some = on { $up } of your { $total } spokes so far
status-no-spokes = Not published to any spoke yet: add a spoke to publish.
status-not-yet = Not published yet
status-published = { $total ->
    [one] Published to { $up } of { $total } spoke
   *[other] Published to { $up } of { $total } spokes
}
status-will-send = will send when a spoke can be reached
status-trying-others = trying the others again
opening = Opening…
publishing = Publishing…
not-published = Not published
unpublishing = Unpublishing…
undo = Undo
moved-to-bin = Moved “{ $title }” to the bin.
spoke-added = Spoke added. Publish to send your blog there.
add-spoke-open = Add a spoke…
invite-title = An invitation to publish
invite-text = A spoke invited you to publish your blog there. Once you add it, your blog goes there with your next publish, and readers can read it there too.
invite-add = Add this spoke
invite-later = Not now
unpublished-notice-deleted = “{ $title }” is off your blog. Your spokes delete its words now; a copy someone already saved cannot be recalled. It stays here with its history: publish it to bring it back.
unpublished-notice-kept = “{ $title }” is off your blog. Your spokes still keep its earlier words in the blog's history, and a copy someone already saved cannot be recalled. It stays here: publish it to bring it back.
language-label = Language of the app
language-auto = Like the system ({ $language })

## The first screens

welcome-heading = Welcome to Spokes
welcome-text = Your blog lives on this computer. Everything you publish is signed with a key only you hold, so nobody can change your words without it showing.
welcome-name = Your name, as readers will see it
welcome-name-example = Ada Lovelace
welcome-title = Your blog's title
welcome-title-example = Notes from the engine room
welcome-passphrase = A passphrase to protect your key (at least 8 characters)
welcome-passphrase-again = The same passphrase again
welcome-passphrases-differ = The two passphrases are different.
welcome-create = Create my blog
welcome-creating = Creating your key…
welcome-restore = I already have a blog: bring it back with my recovery file
welcome-key = I have an OpenPGP key (GnuPG, Kleopatra…): start with it
welcome-join = I write this blog on another computer: add this one
join-go = Add this computer
join-text = On your other computer, open Spokes, then Settings → “Add another computer”. It shows a code: type or paste it here.
join-code = The code
join-fetching = Fetching your blog…
key-pick = Choose the key file…
key-no-file = No file chosen yet.
key-go = Start my blog with this key
key-heading = Start with your own key
key-export = Export your secret key to a file first: in Kleopatra or GPG Keychain, “Export secret keys”; with GnuPG,
key-text = Your blog is signed with it. The name and email address in the key are part of it, and readers can see them.
key-passphrase = The key's passphrase
key-dialog-title = Choose your secret key file
key-dialog-filter = OpenPGP secret key
key-choose-first = Choose your key file first.
key-opening = Opening your key…
restore-pick = Choose the recovery file…
restore-no-file = No file chosen yet. It is named spokes-recovery-….json, often in your Documents folder.
restore-go = Bring my blog back
restore-heading = Bring your blog back
restore-text = Your recovery file and your passphrase bring back your name, your key and your whole blog, with its history and drafts, from the spokes that host it.
restore-passphrase = The passphrase you chose for it
restore-dialog-title = Choose your recovery file
recovery-file-filter = Spokes recovery file
restore-choose-first = Choose your recovery file first.
restore-fetching = Fetching your blog from its spokes…
recovery-print = Show a printable sheet
recovery-copy = Save a copy…
recovery-copy-tip = For example on a USB stick
recovery-heading = Keep a way back in
recovery-text = If this computer is lost or breaks, your recovery file and your passphrase bring back your name and your whole blog on a new one.
recovery-saved-to = Saved to
recovery-keep = Copy it to a USB stick or another safe place, or print the sheet and keep it with your papers. Without your passphrase it opens nothing.
recovery-also-saved = Also saved to { $path }
recovery-not-saved = not saved
recovery-sheet = Recovery sheet
recovery-print-now = Print
recovery-dialog-title = Save your recovery file
onboard-invite-placeholder = spokes1… or a link that contains it
onboard-add = Add this spoke
onboard-done = Start writing
onboard-local = No invite yet? Keep your blog on this computer for now: you can read it in your browser, and add spokes later in the sidebar.
onboard-heading = Where your blog will live
onboard-text = Spokes are small servers run by different people. Each one you add keeps a copy of your blog and shows it to readers, so none of them can take it down alone. A spoke's operator gives you an invite.
onboard-added = { $name }: added. Your first publish sends your blog there.

## Settings

settings-description-placeholder = One or two sentences under the title
device-main-key = Main key
device-unnamed = Unnamed computer
device-this = (this computer)
device-removed = removed { $day }
device-removed-lost = lost or stolen, removed { $day }
device-added = added { $day }
device-retire = No longer used…
device-lost = Lost or stolen…
spoke-not-tried = not tried yet
spoke-up-to-date = has everything you published
spoke-not-yet = not yet
spoke-not-yet-because = not yet: { $reason }
spoke-last-reached = (last reached { $when })
spoke-remove = Remove
spoke-open = Open in browser
spoke-none = No spokes yet: your blog is on this computer only.
name-release = Give the name up…
name-keep = Keep it
name-give-up = Give it up
name-releasing = Giving the name up…
name-released = { $name } is no longer your blog's name.
name-release-question = Give up { $name }? Readers who kept it will no longer reach your blog there, and another writer may take it.
name-at-before = Readers find your blog at
name-at-after = , on whichever of your spokes is up.
name-claim = Claim this name
name-asking = Asking your spokes…
name-yours = The name is yours now.
name-taken = { $name } is already another blog's name.
name-free = These are free:
name-text = A name readers can keep: it reaches your blog on whichever of your spokes is up. The first blog to claim a name gets it.
name-label = Name
record-type = Type
record-name = Name
record-value = Value
domain-remove = Stop using this domain
domain-removed = Your spokes no longer serve your blog at { $domain }.
domain-at-before = Also at
domain-at-after = once these two records are where that domain's addresses are kept (your domain provider's DNS settings):
domain-use = Use this domain
domain-signing = Signing and publishing…
domain-text = Own a domain? Your blog can be read there too.
domain-label = Your domain
settings-save-recovery = Save the recovery file again
settings-export = Export everything
settings-pair = Add another computer…
settings-change-pass = Change passphrase…
settings-export-site = Export a website…
site-dialog-title = Export a website
site-folder = website
site-writing = Writing the website…
site-written = { $n ->
    [one] Wrote your website ({ $n } file) to { $path }. Open index.html there, or upload the folder to any web host.
   *[other] Wrote your website ({ $n } files) to { $path }. Open index.html there, or upload the folder to any web host.
}
settings-import = Bring in posts from another blog…
settings-recovery-saved = Saved the recovery file to { $path }
export-dialog-title = Export your blog
export-filter = Spokes export
exporting = Exporting…
exported = Exported your blog, its history and signatures to { $path }
settings-blog = Your blog
settings-title = Title
settings-description = Description
settings-language = Language of the blog, for readers and spell checking
settings-handle = Handle
settings-web-address = Web address
settings-you = You
settings-advanced = Advanced
settings-fingerprint = Your key's fingerprint, for readers who check signatures:
settings-devices = Computers that sign for you:
settings-copies = Copies to keep
settings-import-heading = Posts from another blog
settings-import-text = From WordPress, Ghost, Jekyll, Hugo or Zola, as drafts.
settings-this-computer = On this computer
spelling-none = This computer has no spelling dictionary for { $language }: spelling is not checked.
settings-saved = Saved. Readers see it after your next publish.
settings-updates = New versions of Spokes
update-version = This is Spokes { $version }.
update-elsewhere = This is Spokes { $version }. Your system's software updates keep it up to date.
update-not-set-up = This is Spokes { $version }. This copy does not look for new versions by itself.
update-unchecked = This is Spokes { $version }.
update-up-to-date = This is Spokes { $version }, the newest version.
update-look = Look for a new version
update-looking = Looking for a new version…
update-available = Spokes { $version } is ready to install. You have { $current }.
update-install = Install Spokes { $version }
update-downloading = Downloading the new version…
update-downloading-part = Downloading the new version… { $percent } %
update-installed = The new version is installed. It starts the next time you open Spokes.
update-restart = Restart Spokes now
update-at-start = Look for a new version when Spokes starts
update-notice = Spokes { $version } is ready to install
update-error-connection = The update server could not be reached. Try again when you are online.
update-error-refused = This update is not signed by the makers of Spokes, so it was not installed. Your copy of Spokes is unchanged.
update-error-malformed = The update server sent something that is not an update of Spokes. Nothing was installed.
update-error-io = The new version could not be put in place of this one. Your copy of Spokes is unchanged.
update-error-too-large = The update is far larger than Spokes could be, so it was not installed. Your copy of Spokes is unchanged.

## Bringing in posts from another blog

import-heading = Bring in posts from another blog
import-file = Choose an export file…
import-folder = Choose a folder…
import-file-dialog = Choose your blog's export file
import-file-filter = WordPress or Ghost export
import-folder-dialog = Choose your blog's folder
import-text = Your posts come in as drafts, with their dates, tags and pictures. Nothing is published until you publish it.
import-wordpress = the file from Tools → Export → All content. Put its uploads folder beside it to bring the pictures too.
import-ghost = the file from Settings → Migration → Export. Put its images folder beside it for the pictures.
import-folders = the site's folder.
import-reading = Reading…
import-none = No posts were found there.
import-go = { $n ->
    [one] Bring in { $n } post
   *[other] Bring in { $n } posts
}
import-list-label = Posts to bring in
import-more = { $n ->
    [one] …and { $n } more post.
   *[other] …and { $n } more posts.
}
import-left-out = { $n ->
    [one] Left out: { $n } entry that is not a post
   *[other] Left out: { $n } entries that are not posts
}
import-left-out-label = Left out
import-summary = { $n ->
    [one] { $n } post to bring in as drafts.
   *[other] { $n } posts to bring in as drafts.
}
import-summary-pictures = { $n ->
    [one] { $n } post to bring in as drafts, { $pictures ->
        [one] with { $pictures } picture.
       *[other] with { $pictures } pictures.
    }
   *[other] { $n } posts to bring in as drafts, { $pictures ->
        [one] with { $pictures } picture.
       *[other] with { $pictures } pictures.
    }
}
import-notes = { $n ->
    [one] { $n } note below on what could not come in exactly.
   *[other] { $n } notes below on what could not come in exactly.
}
import-bringing = { $n ->
    [one] Bringing in { $n } post…
   *[other] Bringing in { $n } posts…
}
import-done = { $n ->
    [one] Brought in { $n } post as drafts.
   *[other] Brought in { $n } posts as drafts.
}
skip-section-index = a section's index page, not a post
skip-readme = a README, not a post
skip-build-or-theme = part of the built site or a theme, not a post
skip-site-page = a page of the site outside its posts
skip-not-writing = a picture, menu or other part of the old site, not a post
skip-trashed = in the old blog's trash

## What an import guessed or could not keep (codes of spokes_core::import::ImportNote)
note-unreadable-date = the { $field } “{ $value }” could not be read
note-date-from-file = no date was found in the post; the file's date was used
note-date-from-import = no date was found in the post; today's date was used
note-picture-missing = the picture “{ $src }” was not found; its link stays as it was
note-picture-not-beside = the picture { $src } was not in the folder beside the export: it stays linked to its old address
note-picture-not-kept = the picture “{ $src }” could not be kept: { $reason }
note-picture-unreadable = the picture “{ $src }” could not be read: { $reason }
note-was-private = it was private on WordPress
note-plain-text-only = the export holds only the post's plain text: its formatting did not come in
note-shortcodes = WordPress shortcodes ({ $list }) stay as text: edit the post to replace them
note-formatting-too-large = the post is too large to keep its formatting: its text came in without it
note-formatting-unreadable = the post's formatting could not be read: its text came in without it

## Another computer

pair-show = Show the code
pair-heading = Add another computer
pair-text = The other computer will write and publish this blog too, signing with a key of its own. You can remove it here at any time.
pair-added = Computer added
pair-added-text = { $name } now writes for you, with a key of its own.
pair-not-added = Not added
pair-did-not-join = The other computer did not join.
pair-code-label = Pairing code
pair-copy = Copy the code
pair-copied = Copied
pair-qr = The pairing code as a QR code
pair-stop = Stop
pair-instructions = On the other computer, open Spokes and choose “I write this blog on another computer”, then give it this code:
pair-waiting = Waiting for the other computer (up to ten minutes)…
remove = Remove
remove-for-good = Remove for good
remove-lost-heading = { $name } was lost or stolen
remove-retire-heading = { $name } is no longer used
remove-lost-text = Whoever has it could publish in your name. Once you remove it, nothing it signed counts, even posts it dates in the past. Your spokes learn this when they next hear from you.
remove-question = Which was the last thing you published from it yourself? It stays; anything after it goes.
remove-blog-settings = Blog settings
remove-none-of-these = None of these
remove-published-nothing = It published nothing
remove-retire-text = What it published stays. Choose this only for a computer nobody else has, such as one you wiped or that broke. If it may be in someone else's hands, choose “Lost or stolen” instead.
remove-choose = Choose the last thing you published from it, or “None of these”.
remove-removing = Removing and telling your spokes…

## Passphrase

change-pass-heading = Change your passphrase
change-pass-text = It protects your key on this computer. You will need the new one the next time you publish.
change-pass-current = Current passphrase
change-pass-new = New passphrase (at least 8 characters)
change-pass-again = New passphrase again
change-pass-go = Change passphrase
change-pass-differ = The two new passphrases are not the same.
change-pass-changed = Your passphrase is changed. Recovery files you saved before still open with the old one only: save a new one, and throw the old ones away.
change-pass-save = Save a new recovery file
change-pass-saved = Saved the new recovery file to { $path }
change-pass-done = Passphrase changed
unlock-not-now = Not now
unlock-text = Publishing signs your words with { $name }'s key. Enter your passphrase to unlock it until you close Spokes.
unlock-go = Unlock and publish

## History and details

history-restore = Restore this version
history-heading = History of “{ $title }”
history-text = Every published version, signed when it was published. Pick one to see how it differs from your text now.
history-none = This post has not been published yet.
history-same = Same as your text now.
history-restored = Restored the version of { $when }. Publish to make it public again.
history-on-device = on { $device }
details-tags-example = travel, engines
details-address = Web address
details-tags = Tags (separated by commas)
details-date = Publication date
details-date-text = A date in the future schedules the post: after you publish it, your spokes show it from that moment, even if this computer is off.
details-scheduled = Saved. Scheduled for { $when }: publish to send it.
details-saved = Saved. Readers see the changes after you publish.

## The editor

editor-placeholder = Write in Markdown…
editor-label = Post text
find-find = Find
find-replace-with = Replace with
find-next = Next
find-previous = Previous
find-all = Select all
find-match-case = Match case
find-pattern = Pattern
find-whole-words = Whole words
find-replace = Replace
find-replace-all = Replace all
find-close = Close find

## The menu bar and the desktop's notifications (also read by src-tauri/src/i18n.rs)

menu-file = File
menu-new-post = New post
menu-import = Bring in posts from another blog…
menu-export = Export everything…
menu-recovery = Save the recovery file again…
menu-quit = Quit
menu-edit = Edit
menu-cut = Cut
menu-copy = Copy
menu-paste = Paste
menu-select-all = Select all
menu-find = Find and replace…
menu-post = Post
menu-publish = Publish
menu-details = Details…
menu-history = History…
menu-picture = Add a picture…
menu-view = View
menu-focus = Focus mode
menu-preview = Preview beside the text
menu-theme = Change theme
menu-settings = Settings…
menu-help = Help
menu-guide = Guide for writers
menu-about = About Spokes
about-comments = Write a blog no single server can take down or quietly alter.

    The app's log is in { $log }.
notify-still-sending = Still sending
notify-still-sending-body = What you published has not reached { $missing } yet. Spokes keeps trying; nothing is lost.
notify-published = Published
notify-published-body = { $total ->
    [one] Everything you published has reached your spoke.
   *[other] Everything you published has reached all { $total } of your spokes.
}
notify-still-sending-all-body = What you published has not reached your spokes yet. Spokes keeps trying; nothing is lost.

## The printable recovery sheet (made in Rust: src-tauri/src/i18n.rs, sheet_words)

sheet-title = Spokes recovery sheet: { $title }
sheet-heading = Recovery sheet
sheet-blog = Blog: { $title } by { $name }
sheet-fingerprint = Identity fingerprint:
sheet-blog-id = Blog ID:
sheet-made-on = Made on { $date }.
sheet-if-lost = If this computer is lost
sheet-step-install = Install Spokes on another computer and open it.
sheet-step-choose = Choose { $choice }, pick the recovery file you saved, and enter your passphrase. Your blog and drafts come back from any of your spokes.
sheet-step-scan = No copy of the file? Scan the codes below with a phone, in order, and put their text one after the other into a plain text file named { $file } (or type the text printed at the end of this sheet). Then pick that file.
sheet-key-locked = The key below is locked with your passphrase, which is not written here. Keep this sheet away from where you write your passphrase down.
sheet-your-spokes = Your spokes
sheet-as-codes = The recovery file as codes
sheet-too-long = (too long for a code: type this part)
sheet-part = Part { $i } of { $n }
sheet-file = Recovery file
