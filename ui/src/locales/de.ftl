# Spokes: die Wörter der App auf Deutsch. Dieselben IDs wie en.ftl (der Katalogtest prüft,
# dass beide dieselben Nachrichten haben); dazu error-* für jeden Fehlercode, da die Sätze
# aus Rust englisch sind. Syntax: https://projectfluent.org/fluent/guide/

## Gemeinsam

untitled = Ohne Titel
a-spoke = Ein Spoke
close = Schließen
cancel = Abbrechen
back = Zurück
done = Fertig
save = Speichern
next = Weiter
opening-blog = Ihr Blog wird geöffnet…
word-count = { $n ->
    [one] { $n } Wort
   *[other] { $n } Wörter
}
reading-time = { $minutes } Min. Lesezeit
format-link-text = Linktext
format-your-spoke = (Ihr Spoke)
theme-auto = Farben: wie das System
theme-light = Farben: hell
theme-dark = Farben: dunkel
save-saved = Gespeichert
save-unsaved = Bearbeitet…
save-saving = Wird gespeichert…
save-error = Nicht gespeichert: neuer Versuch beim Tippen
your-passphrase = Ihre Passphrase
passphrase = Passphrase

## Nach einem Update

preparing-heading = Ihr Blog wird vorbereitet
preparing-text = Diese Version von Spokes bewahrt jeden Beitrag für sich auf, damit auch große Blogs sofort öffnen. Das Umziehen Ihrer Beiträge geschieht einmal und kann bei Tausenden Beiträgen eine Minute dauern. Dabei wird nichts verschickt.
preparing-progress = Ihre Beiträge ziehen um

## Der Schreibbildschirm

posts-label = Ihre Beiträge
title-placeholder = Titel
preview-label = Vorschau
preview-tip = Die Seite, wie Leser sie sehen, neben dem Text (Strg+Umschalt+P)
offline = Offline
offline-tip = Ihr Text ist auf diesem Computer gespeichert. Er geht an Ihre Spokes, sobald einer erreichbar ist.
publish = Veröffentlichen
publish-tip = Veröffentlichen (Strg+Eingabe)
publish-nothing-new = Nichts Neues zu veröffentlichen: Diese Fassung ist auf allen Ihren Spokes.
schedule = Planen
schedule-tip = Jetzt senden; Leser sehen ihn ab seinem Datum (Strg+Eingabe)
history = Verlauf
history-tip = Frühere Fassungen (Strg+H)
details = Details
details-tip = Webadresse, Schlagwörter und Veröffentlichungsdatum (Strg+D)
unpublish = Zurückziehen
unpublish-tip = Diesen Beitrag von Ihren Spokes nehmen (signiert und im Verlauf festgehalten)
delete = Löschen
delete-tip = Diesen Entwurf in den Papierkorb legen (rückgängig zu machen)
search-placeholder = Titel und Schlagwörter durchsuchen
search-label = Beiträge durchsuchen
filter-label = Anzeigen
filter-all = Alle Beiträge
filter-drafts = Entwürfe
filter-published = Veröffentlicht
filter-changed = Seit der Veröffentlichung geändert
focus = Fokus
focus-tip = Fokus: nur der Text (Strg+Umschalt+F)
format-bar-label = Formatierung
fmt-bold = F
fmt-bold-tip = Fett (Strg+B)
fmt-italic = K
fmt-italic-tip = Kursiv (Strg+I)
fmt-heading = Ü
fmt-heading-tip = Überschrift (Strg+Umschalt+H)
fmt-link = Link
fmt-link-tip = Link (Strg+K)
fmt-quote-tip = Zitat (Strg+Umschalt+Q)
fmt-list = Liste
fmt-list-tip = Liste (Strg+Umschalt+L)
fmt-code = Code
fmt-code-tip = Code (Strg+E)
fmt-image = Bild
fmt-image-tip = Bild (Strg+Umschalt+I)
adding-pictures = { $n ->
    [one] Das Bild wird hinzugefügt…
   *[other] { $n } Bilder werden hinzugefügt…
}
settings = Einstellungen
settings-tip = Einstellungen (Strg+,)
new-post = Neuer Beitrag
new-post-tip = Neuer Beitrag (Strg+N)
invite-placeholder = Einladung einfügen (spokes1…)
invite-label = Einladung
add-spoke = Spoke hinzufügen
spokes-heading = Spokes
signed-as = Signiert als { $name }
local-only = Nur auf diesem Computer: Leser sehen ihn noch nicht. Fügen Sie einen Spoke hinzu, um zu veröffentlichen.
local-see = So sehen ihn Ihre Leser
hosted-by = { $n ->
    [one] Auf { $n } Spoke.
   *[other] Auf { $n } Spokes.
}
state-draft = Entwurf
state-unpublished = Zurückgezogen
state-changed = Geändert
state-scheduled = Geplant
state-published = Veröffentlicht
list-no-match = Kein Beitrag passt.
list-empty = Noch keine Beiträge.
post-status-draft = Entwurf · nur auf diesem Computer, bis Sie ihn veröffentlichen
post-status-unpublished = Zurückgezogen · nur auf diesem Computer
post-status-changed = Veröffentlicht · Ihre letzten Änderungen sind noch nicht veröffentlicht
post-status-scheduled = Geplant · Leser sehen ihn ab { $day }
reach-all = { $total ->
    [one] auf Ihrem Spoke
   *[other] auf allen { $total } Ihrer Spokes
}
reach-local = nur auf diesem Computer, bis Sie einen Spoke für Leser hinzufügen
reach-some = bisher auf { $up } von { $total } Ihrer Spokes
status-no-spokes = Noch auf keinem Spoke veröffentlicht: Fügen Sie einen Spoke hinzu, um zu veröffentlichen.
status-not-yet = Noch nicht veröffentlicht
status-published = Veröffentlicht auf { $up } von { $total } { $total ->
    [one] Spoke
   *[other] Spokes
}
status-will-send = wird gesendet, sobald ein Spoke erreichbar ist
status-trying-others = die anderen werden erneut versucht
opening = Wird geöffnet…
publishing = Wird veröffentlicht…
not-published = Nicht veröffentlicht
unpublishing = Wird zurückgezogen…
undo = Rückgängig
moved-to-bin = „{ $title }“ liegt im Papierkorb.
spoke-added = Spoke hinzugefügt. Veröffentlichen Sie, um Ihr Blog dorthin zu senden.
add-spoke-open = Spoke hinzufügen …
invite-title = Eine Einladung zum Veröffentlichen
invite-text = Ein Spoke lädt Sie ein, Ihr Blog dort zu veröffentlichen. Sobald Sie ihn hinzufügen, geht Ihr Blog mit Ihrer nächsten Veröffentlichung dorthin, und Leser können es auch dort lesen.
invite-add = Diesen Spoke hinzufügen
invite-later = Nicht jetzt
unpublished-notice-deleted = „{ $title }“ ist nicht mehr in Ihrem Blog. Ihre Spokes löschen seinen Text jetzt; eine Kopie, die jemand schon gespeichert hat, lässt sich nicht zurückholen. Er bleibt hier mit seinem Verlauf: Veröffentlichen Sie ihn, um ihn zurückzubringen.
unpublished-notice-kept = „{ $title }“ ist nicht mehr in Ihrem Blog. Ihre Spokes behalten seinen früheren Text im Verlauf des Blogs, und eine Kopie, die jemand schon gespeichert hat, lässt sich nicht zurückholen. Er bleibt hier: Veröffentlichen Sie ihn, um ihn zurückzubringen.
language-label = Sprache der App
language-auto = Wie das System ({ $language })

## Die ersten Bildschirme

welcome-heading = Willkommen bei Spokes
welcome-text = Ihr Blog lebt auf diesem Computer. Alles, was Sie veröffentlichen, wird mit einem Schlüssel signiert, den nur Sie haben: Niemand kann Ihre Worte ändern, ohne dass es auffällt.
welcome-name = Ihr Name, wie Leser ihn sehen
welcome-name-example = Ada Lovelace
welcome-title = Der Titel Ihres Blogs
welcome-title-example = Notizen aus dem Maschinenraum
welcome-passphrase = Eine Passphrase, die Ihren Schlüssel schützt (mindestens 8 Zeichen)
welcome-passphrase-again = Dieselbe Passphrase noch einmal
welcome-passphrases-differ = Die beiden Passphrasen sind verschieden.
welcome-create = Mein Blog anlegen
welcome-creating = Ihr Schlüssel wird erzeugt…
welcome-restore = Ich habe schon ein Blog: mit meiner Wiederherstellungsdatei zurückholen
welcome-key = Ich habe einen OpenPGP-Schlüssel (GnuPG, Kleopatra…): damit beginnen
welcome-join = Ich schreibe dieses Blog auf einem anderen Computer: diesen hinzufügen
join-go = Diesen Computer hinzufügen
join-text = Öffnen Sie Spokes auf Ihrem anderen Computer, dann Einstellungen → „Weiteren Computer hinzufügen“. Dort steht ein Code: Tippen oder fügen Sie ihn hier ein.
join-code = Der Code
join-fetching = Ihr Blog wird geholt…
key-pick = Schlüsseldatei wählen…
key-no-file = Noch keine Datei gewählt.
key-go = Mein Blog mit diesem Schlüssel beginnen
key-heading = Mit Ihrem eigenen Schlüssel beginnen
key-export = Exportieren Sie Ihren geheimen Schlüssel zuerst in eine Datei: in Kleopatra oder GPG Keychain mit „Geheime Schlüssel exportieren“; mit GnuPG:
key-text = Ihr Blog wird damit signiert. Name und E-Mail-Adresse im Schlüssel gehören dazu, und Leser können sie sehen.
key-passphrase = Die Passphrase des Schlüssels
key-dialog-title = Ihre geheime Schlüsseldatei wählen
key-dialog-filter = Geheimer OpenPGP-Schlüssel
key-choose-first = Wählen Sie zuerst Ihre Schlüsseldatei.
key-opening = Ihr Schlüssel wird geöffnet…
restore-pick = Wiederherstellungsdatei wählen…
restore-no-file = Noch keine Datei gewählt. Sie heißt spokes-recovery-….json und liegt oft in Ihrem Dokumente-Ordner.
restore-go = Mein Blog zurückholen
restore-heading = Ihr Blog zurückholen
restore-text = Ihre Wiederherstellungsdatei und Ihre Passphrase bringen Ihren Namen, Ihren Schlüssel und Ihr ganzes Blog mit Verlauf und Entwürfen von den Spokes zurück, die es bereithalten.
restore-passphrase = Die Passphrase, die Sie dafür gewählt haben
restore-dialog-title = Ihre Wiederherstellungsdatei wählen
recovery-file-filter = Spokes-Wiederherstellungsdatei
restore-choose-first = Wählen Sie zuerst Ihre Wiederherstellungsdatei.
restore-fetching = Ihr Blog wird von seinen Spokes geholt…
recovery-print = Druckbares Blatt zeigen
recovery-copy = Kopie speichern…
recovery-copy-tip = Zum Beispiel auf einem USB-Stick
recovery-heading = Ein Weg zurück
recovery-text = Wenn dieser Computer verloren geht oder kaputtgeht, bringen Ihre Wiederherstellungsdatei und Ihre Passphrase Ihren Namen und Ihr ganzes Blog auf einen neuen zurück.
recovery-saved-to = Gespeichert unter
recovery-keep = Kopieren Sie sie auf einen USB-Stick oder an einen anderen sicheren Ort, oder drucken Sie das Blatt und legen Sie es zu Ihren Unterlagen. Ohne Ihre Passphrase öffnet sie nichts.
recovery-also-saved = Auch gespeichert unter { $path }
recovery-not-saved = nicht gespeichert
recovery-sheet = Wiederherstellungsblatt
recovery-print-now = Drucken
recovery-dialog-title = Ihre Wiederherstellungsdatei speichern
onboard-invite-placeholder = spokes1… oder ein Link, der sie enthält
onboard-add = Diesen Spoke hinzufügen
onboard-done = Mit dem Schreiben beginnen
onboard-local = Noch keine Einladung? Behalten Sie Ihr Blog vorerst auf diesem Computer: Sie können es im Browser lesen und Spokes später in der Seitenleiste hinzufügen.
onboard-heading = Wo Ihr Blog leben wird
onboard-text = Spokes sind kleine Server, die verschiedene Menschen betreiben. Jeder, den Sie hinzufügen, hält eine Kopie Ihres Blogs und zeigt sie Lesern, sodass keiner es allein abschalten kann. Die Betreiberin oder der Betreiber eines Spokes gibt Ihnen eine Einladung.
onboard-added = { $name }: hinzugefügt. Ihre erste Veröffentlichung sendet Ihr Blog dorthin.

## Einstellungen

settings-description-placeholder = Ein oder zwei Sätze unter dem Titel
device-main-key = Hauptschlüssel
device-unnamed = Computer ohne Namen
device-this = (dieser Computer)
device-removed = entfernt am { $day }
device-removed-lost = verloren oder gestohlen, entfernt am { $day }
device-added = hinzugefügt am { $day }
device-retire = Nicht mehr benutzt…
device-lost = Verloren oder gestohlen…
spoke-not-tried = noch nicht versucht
spoke-up-to-date = hat alles, was Sie veröffentlicht haben
spoke-not-yet = noch nicht
spoke-not-yet-because = noch nicht: { $reason }
spoke-last-reached = (zuletzt erreicht { $when })
spoke-remove = Entfernen
spoke-open = Im Browser öffnen
spoke-none = Noch keine Spokes: Ihr Blog ist nur auf diesem Computer.
name-release = Namen aufgeben…
name-keep = Behalten
name-give-up = Aufgeben
name-releasing = Der Name wird aufgegeben…
name-released = { $name } ist nicht mehr der Name Ihres Blogs.
name-release-question = { $name } aufgeben? Leser, die ihn sich gemerkt haben, erreichen Ihr Blog dort nicht mehr, und jemand anderes kann ihn nehmen.
name-at-before = Leser finden Ihr Blog unter
name-at-after = , auf jedem Ihrer Spokes, der gerade läuft.
name-claim = Diesen Namen sichern
name-asking = Ihre Spokes werden gefragt…
name-yours = Der Name gehört jetzt Ihnen.
name-taken = { $name } ist schon der Name eines anderen Blogs.
name-free = Diese sind frei:
name-text = Ein Name, den Leser behalten können: Er führt zu Ihrem Blog auf jedem Ihrer Spokes, der gerade läuft. Das erste Blog, das einen Namen beansprucht, bekommt ihn.
name-label = Name
record-type = Typ
record-name = Name
record-value = Wert
domain-remove = Diese Domain nicht mehr verwenden
domain-removed = Ihre Spokes zeigen Ihr Blog nicht mehr unter { $domain }.
domain-at-before = Auch unter
domain-at-after = sobald diese beiden Einträge dort stehen, wo die Adressen der Domain verwaltet werden (in den DNS-Einstellungen Ihres Domain-Anbieters):
domain-use = Diese Domain verwenden
domain-signing = Wird signiert und veröffentlicht…
domain-text = Sie besitzen eine Domain? Ihr Blog kann auch dort gelesen werden.
domain-label = Ihre Domain
settings-save-recovery = Wiederherstellungsdatei erneut speichern
settings-export = Alles exportieren
settings-pair = Weiteren Computer hinzufügen…
settings-change-pass = Passphrase ändern…
settings-export-site = Als Website exportieren…
site-dialog-title = Als Website exportieren
site-folder = website
site-writing = Die Website wird geschrieben…
site-written = { $n ->
    [one] Ihre Website ({ $n } Datei) liegt jetzt in { $path }. Öffnen Sie dort index.html, oder laden Sie den Ordner zu einem beliebigen Webhoster hoch.
   *[other] Ihre Website ({ $n } Dateien) liegt jetzt in { $path }. Öffnen Sie dort index.html, oder laden Sie den Ordner zu einem beliebigen Webhoster hoch.
}
settings-import = Beiträge aus einem anderen Blog übernehmen…
settings-recovery-saved = Die Wiederherstellungsdatei ist gespeichert unter { $path }
export-dialog-title = Ihr Blog exportieren
export-filter = Spokes-Export
exporting = Wird exportiert…
exported = Ihr Blog mit Verlauf und Signaturen ist exportiert nach { $path }
settings-blog = Ihr Blog
settings-title = Titel
settings-description = Beschreibung
settings-language = Sprache des Blogs, für Leser und die Rechtschreibprüfung
settings-handle = Kennung
settings-web-address = Webadresse
settings-you = Sie
settings-advanced = Erweitert
settings-fingerprint = Der Fingerabdruck Ihres Schlüssels, für Leser, die Signaturen prüfen:
settings-devices = Computer, die für Sie signieren:
settings-copies = Kopien aufbewahren
settings-import-heading = Beiträge aus einem anderen Blog
settings-import-text = Aus WordPress, Ghost, Jekyll, Hugo oder Zola, als Entwürfe.
settings-this-computer = Auf diesem Computer
spelling-none = Dieser Computer hat kein Wörterbuch für { $language }: Die Rechtschreibung wird nicht geprüft.
settings-saved = Gespeichert. Leser sehen es nach Ihrer nächsten Veröffentlichung.
settings-updates = Neue Versionen von Spokes
update-version = Dies ist Spokes { $version }.
update-elsewhere = Dies ist Spokes { $version }. Die Software-Aktualisierung Ihres Systems hält es aktuell.
update-not-set-up = Dies ist Spokes { $version }. Diese Ausgabe sucht nicht selbst nach neuen Versionen.
update-unchecked = Dies ist Spokes { $version }.
update-up-to-date = Dies ist Spokes { $version }, die neueste Version.
update-look = Nach einer neuen Version suchen
update-looking = Neue Version wird gesucht …
update-available = Spokes { $version } kann installiert werden. Sie haben { $current }.
update-install = Spokes { $version } installieren
update-downloading = Die neue Version wird geladen …
update-downloading-part = Die neue Version wird geladen … { $percent } %
update-installed = Die neue Version ist installiert. Sie startet, wenn Sie Spokes das nächste Mal öffnen.
update-restart = Spokes jetzt neu starten
update-at-start = Beim Start von Spokes nach einer neuen Version suchen
update-notice = Spokes { $version } kann installiert werden
update-error-connection = Der Update-Server war nicht erreichbar. Versuchen Sie es noch einmal, wenn Sie online sind.
update-error-refused = Dieses Update ist nicht von den Machern von Spokes signiert und wurde deshalb nicht installiert. Ihr Spokes ist unverändert.
update-error-malformed = Der Update-Server hat etwas geschickt, das kein Update von Spokes ist. Nichts wurde installiert.
update-error-io = Die neue Version konnte nicht an die Stelle dieser gesetzt werden. Ihr Spokes ist unverändert.
update-error-too-large = Das Update ist viel größer, als Spokes sein kann, und wurde deshalb nicht installiert. Ihr Spokes ist unverändert.

## Beiträge aus einem anderen Blog

import-heading = Beiträge aus einem anderen Blog übernehmen
import-file = Exportdatei wählen…
import-folder = Ordner wählen…
import-file-dialog = Die Exportdatei Ihres Blogs wählen
import-file-filter = WordPress- oder Ghost-Export
import-folder-dialog = Den Ordner Ihres Blogs wählen
import-text = Ihre Beiträge kommen als Entwürfe herein, mit Datum, Schlagwörtern und Bildern. Nichts wird veröffentlicht, bevor Sie es veröffentlichen.
import-wordpress = die Datei aus Werkzeuge → Daten exportieren → Alle Inhalte. Legen Sie ihren Ordner uploads daneben, damit die Bilder mitkommen.
import-ghost = die Datei aus Settings → Migration → Export. Legen Sie ihren Ordner images daneben, für die Bilder.
import-folders = der Ordner der Website.
import-reading = Wird gelesen…
import-none = Dort wurden keine Beiträge gefunden.
import-go = { $n ->
    [one] { $n } Beitrag übernehmen
   *[other] { $n } Beiträge übernehmen
}
import-list-label = Zu übernehmende Beiträge
import-more = { $n ->
    [one] …und { $n } weiterer Beitrag.
   *[other] …und { $n } weitere Beiträge.
}
import-left-out = { $n ->
    [one] Ausgelassen: { $n } Eintrag, der kein Beitrag ist
   *[other] Ausgelassen: { $n } Einträge, die keine Beiträge sind
}
import-left-out-label = Ausgelassen
import-summary = { $n ->
    [one] { $n } Beitrag wird als Entwurf übernommen.
   *[other] { $n } Beiträge werden als Entwürfe übernommen.
}
import-summary-pictures = { $n ->
    [one] { $n } Beitrag wird als Entwurf übernommen, { $pictures ->
        [one] mit { $pictures } Bild.
       *[other] mit { $pictures } Bildern.
    }
   *[other] { $n } Beiträge werden als Entwürfe übernommen, { $pictures ->
        [one] mit { $pictures } Bild.
       *[other] mit { $pictures } Bildern.
    }
}
import-notes = { $n ->
    [one] { $n } Hinweis unten dazu, was nicht genau übernommen werden konnte.
   *[other] { $n } Hinweise unten dazu, was nicht genau übernommen werden konnte.
}
import-bringing = { $n ->
    [one] { $n } Beitrag wird übernommen…
   *[other] { $n } Beiträge werden übernommen…
}
import-done = { $n ->
    [one] { $n } Beitrag als Entwurf übernommen.
   *[other] { $n } Beiträge als Entwürfe übernommen.
}
skip-section-index = die Übersichtsseite eines Bereichs, kein Beitrag
skip-readme = eine README, kein Beitrag
skip-build-or-theme = Teil der erzeugten Website oder eines Themes, kein Beitrag
skip-site-page = eine Seite der Website außerhalb ihrer Beiträge
skip-not-writing = ein Bild, Menü oder anderer Teil der alten Website, kein Beitrag
skip-trashed = im Papierkorb des alten Blogs

## Was ein Import erraten musste oder nicht genau übernehmen konnte
note-unreadable-date = { $field } „{ $value }“ ist kein lesbares Datum
note-date-from-file = Im Beitrag steht kein Datum; das Datum der Datei wurde genommen
note-date-from-import = Im Beitrag steht kein Datum; das heutige Datum wurde genommen
note-picture-missing = Das Bild „{ $src }“ wurde nicht gefunden; sein Link bleibt, wie er war
note-picture-not-beside = Das Bild { $src } lag nicht im Ordner neben dem Export: Es bleibt mit seiner alten Adresse verlinkt
note-picture-not-kept = Das Bild „{ $src }“ konnte nicht übernommen werden: { $reason }
note-picture-unreadable = Das Bild „{ $src }“ konnte nicht gelesen werden: { $reason }
note-was-private = Er war bei WordPress privat
note-plain-text-only = Der Export enthält nur den reinen Text des Beitrags: Seine Formatierung kam nicht mit
note-shortcodes = WordPress-Shortcodes ({ $list }) bleiben als Text stehen: Ersetzen Sie sie im Beitrag
note-formatting-too-large = Der Beitrag ist zu groß, um seine Formatierung zu behalten: Sein Text kam ohne sie
note-formatting-unreadable = Die Formatierung des Beitrags war nicht lesbar: Sein Text kam ohne sie

## Ein weiterer Computer

pair-show = Code zeigen
pair-heading = Weiteren Computer hinzufügen
pair-text = Der andere Computer schreibt und veröffentlicht dieses Blog dann auch, mit einem eigenen Schlüssel. Sie können ihn hier jederzeit wieder entfernen.
pair-added = Computer hinzugefügt
pair-added-text = { $name } schreibt jetzt für Sie, mit einem eigenen Schlüssel.
pair-not-added = Nicht hinzugefügt
pair-did-not-join = Der andere Computer ist nicht beigetreten.
pair-code-label = Kopplungscode
pair-copy = Code kopieren
pair-copied = Kopiert
pair-qr = Der Kopplungscode als QR-Code
pair-stop = Beenden
pair-instructions = Öffnen Sie Spokes auf dem anderen Computer und wählen Sie „Ich schreibe dieses Blog auf einem anderen Computer“. Geben Sie dann diesen Code ein:
pair-waiting = Warten auf den anderen Computer (bis zu zehn Minuten)…
remove = Entfernen
remove-for-good = Endgültig entfernen
remove-lost-heading = { $name } wurde verloren oder gestohlen
remove-retire-heading = { $name } wird nicht mehr benutzt
remove-lost-text = Wer ihn hat, könnte in Ihrem Namen veröffentlichen. Sobald Sie ihn entfernen, zählt nichts mehr, was er signiert hat, auch nicht Beiträge, die er in die Vergangenheit datiert. Ihre Spokes erfahren es, wenn sie das nächste Mal von Ihnen hören.
remove-question = Was haben Sie zuletzt selbst von ihm aus veröffentlicht? Das bleibt; alles danach verschwindet.
remove-blog-settings = Blog-Einstellungen
remove-none-of-these = Nichts davon
remove-published-nothing = Er hat nichts veröffentlicht
remove-retire-text = Was er veröffentlicht hat, bleibt. Wählen Sie dies nur für einen Computer, den niemand sonst hat, etwa einen gelöschten oder kaputten. Wenn er in fremden Händen sein könnte, wählen Sie stattdessen „Verloren oder gestohlen“.
remove-choose = Wählen Sie, was Sie zuletzt von ihm aus veröffentlicht haben, oder „Nichts davon“.
remove-removing = Wird entfernt, Ihre Spokes werden benachrichtigt…

## Passphrase

change-pass-heading = Passphrase ändern
change-pass-text = Sie schützt Ihren Schlüssel auf diesem Computer. Die neue brauchen Sie, wenn Sie das nächste Mal veröffentlichen.
change-pass-current = Aktuelle Passphrase
change-pass-new = Neue Passphrase (mindestens 8 Zeichen)
change-pass-again = Neue Passphrase noch einmal
change-pass-go = Passphrase ändern
change-pass-differ = Die beiden neuen Passphrasen sind nicht gleich.
change-pass-changed = Ihre Passphrase ist geändert. Wiederherstellungsdateien, die Sie vorher gespeichert haben, öffnen sich nur mit der alten: Speichern Sie eine neue und werfen Sie die alten weg.
change-pass-save = Neue Wiederherstellungsdatei speichern
change-pass-saved = Die neue Wiederherstellungsdatei ist gespeichert unter { $path }
change-pass-done = Passphrase geändert
unlock-not-now = Nicht jetzt
unlock-text = Beim Veröffentlichen werden Ihre Worte mit dem Schlüssel von { $name } signiert. Geben Sie Ihre Passphrase ein, um ihn zu entsperren, bis Sie Spokes schließen.
unlock-go = Entsperren und veröffentlichen

## Verlauf und Details

history-restore = Diese Fassung wiederherstellen
history-heading = Verlauf von „{ $title }“
history-text = Jede veröffentlichte Fassung, signiert bei ihrer Veröffentlichung. Wählen Sie eine, um zu sehen, wie sie sich von Ihrem jetzigen Text unterscheidet.
history-none = Dieser Beitrag ist noch nicht veröffentlicht.
history-same = Gleich wie Ihr jetziger Text.
history-restored = Die Fassung vom { $when } ist wiederhergestellt. Veröffentlichen Sie, um sie wieder öffentlich zu machen.
history-on-device = auf { $device }
details-tags-example = Reisen, Maschinen
details-address = Webadresse
details-tags = Schlagwörter (durch Kommas getrennt)
details-date = Veröffentlichungsdatum
details-date-text = Ein Datum in der Zukunft plant den Beitrag: Nachdem Sie ihn veröffentlicht haben, zeigen Ihre Spokes ihn ab diesem Zeitpunkt, auch wenn dieser Computer aus ist.
details-scheduled = Gespeichert. Geplant für { $when }: Veröffentlichen Sie, um ihn zu senden.
details-saved = Gespeichert. Leser sehen die Änderungen nach Ihrer Veröffentlichung.

## Der Editor

editor-placeholder = In Markdown schreiben…
editor-label = Text des Beitrags
find-find = Suchen
find-replace-with = Ersetzen durch
find-next = Weiter
find-previous = Zurück
find-all = Alle auswählen
find-match-case = Groß/klein beachten
find-pattern = Muster
find-whole-words = Ganze Wörter
find-replace = Ersetzen
find-replace-all = Alle ersetzen
find-close = Suche schließen

## Menüleiste und Benachrichtigungen (auch von src-tauri/src/i18n.rs gelesen)

menu-file = Datei
menu-new-post = Neuer Beitrag
menu-import = Beiträge aus einem anderen Blog übernehmen…
menu-export = Alles exportieren…
menu-recovery = Wiederherstellungsdatei erneut speichern…
menu-quit = Beenden
menu-edit = Bearbeiten
menu-cut = Ausschneiden
menu-copy = Kopieren
menu-paste = Einfügen
menu-select-all = Alles auswählen
menu-find = Suchen und ersetzen…
menu-post = Beitrag
menu-publish = Veröffentlichen
menu-details = Details…
menu-history = Verlauf…
menu-picture = Bild hinzufügen…
menu-view = Ansicht
menu-focus = Fokus-Modus
menu-preview = Vorschau neben dem Text
menu-theme = Farben wechseln
menu-settings = Einstellungen…
menu-help = Hilfe
menu-guide = Anleitung zum Schreiben
menu-about = Über Spokes
about-comments = Ein Blog, das kein einzelner Server abschalten oder heimlich ändern kann.

    Das Protokoll der App liegt in { $log }.
notify-still-sending = Wird noch gesendet
notify-still-sending-body = Was Sie veröffentlicht haben, hat { $missing } noch nicht erreicht. Spokes versucht es weiter; nichts geht verloren.
notify-published = Veröffentlicht
notify-published-body = { $total ->
    [one] Alles, was Sie veröffentlicht haben, ist auf Ihrem Spoke angekommen.
   *[other] Alles, was Sie veröffentlicht haben, ist auf allen { $total } Ihrer Spokes angekommen.
}
notify-still-sending-all-body = Was Sie veröffentlicht haben, hat Ihre Spokes noch nicht erreicht. Spokes versucht es weiter; nichts geht verloren.

## Fehler, nach ihrem festen Code (die englischen Sätze kommen aus Rust)

error-unsupported-version = Ein Spoke spricht eine andere Version von Spokes. Eine der beiden Seiten braucht ein Update.
error-not-hosted = Dieser Spoke hält Ihr Blog nicht (mehr). Prüfen Sie Ihre Einladung oder fragen Sie den Betreiber.
error-bad-invite = Diese Einladung gilt nicht (mehr). Bitten Sie den Betreiber des Spokes um eine neue.
error-wrong-certificate = Der Schlüssel passt nicht zu diesem Blog.
error-bad-signature = Eine Signatur stimmt nicht. Nichts davon wurde übernommen.
error-uncovered-changes = Ein Teil der Daten war nicht signiert. Nichts davon wurde übernommen.
error-wrong-blog = Die Daten gehören zu einem anderen Blog.
error-malformed = Es kam etwas Unlesbares an. Nichts davon wurde übernommen.
error-too-many-rounds = Der Abgleich mit dem Spoke hat zu lange gedauert. Spokes versucht es wieder.
error-too-large = Das ist größer, als der Spoke annimmt.
error-suspended = Dieser Spoke hat Ihr Blog angehalten. Fragen Sie seinen Betreiber.
error-internal = Etwas ist schiefgegangen. Versuchen Sie es noch einmal; das Protokoll der App sagt mehr.
error-rate-limited = Der Spoke bittet um eine Pause. Spokes versucht es gleich wieder.
error-quota = Ihr Platz auf diesem Spoke ist voll.
error-low-disk = Der Spoke hat gerade zu wenig Speicherplatz. Spokes versucht es später wieder.
error-blocked = Dieser Spoke nimmt Ihr Blog nicht an.
error-bad-image = Dieses Bild konnte nicht gelesen werden. Versuchen Sie es mit einer PNG-, JPEG-, GIF-, WebP- oder AVIF-Datei.
error-bad-code = Dieser Code gilt nicht. Prüfen Sie, ob er vollständig ist, oder lassen Sie sich einen neuen zeigen.
error-no-council = Ihre Spokes gehören zu keinem Verbund, der Namen vergibt.
error-not-a-member = Dieser Spoke ist kein Mitglied des Verbunds.
error-other-council = Dieser Spoke gehört zu einem anderen Verbund.
error-name-taken = Dieser Name gehört schon einem anderen Blog.
error-bad-name = Dieser Name geht nicht: Nehmen Sie Buchstaben, Ziffern und Bindestriche, höchstens 63 Zeichen.
error-no-names = Ihre Spokes vergeben keine Namen.
error-dns-failed = Der Namensserver des Verbunds war nicht erreichbar. Versuchen Sie es in ein paar Minuten wieder.
error-connection = Der Spoke war nicht erreichbar. Ihr Text ist hier sicher; Spokes sendet ihn, sobald es geht.
error-timeout = Der Spoke hat nicht rechtzeitig geantwortet. Spokes versucht es wieder.
error-protocol = Die Verbindung zum Spoke brach mitten im Austausch ab. Spokes versucht es wieder.
error-images-undelivered = Einige Bilder sind noch nicht angekommen. Spokes sendet sie beim nächsten Mal.
error-bad-council-entry = Ein Eintrag des Verbunds war ungültig und wurde nicht übernommen.
error-rolled-back = Ein Spoke hat eine ältere Fassung Ihres Blogs gezeigt als die, die er schon hatte. Sie wurde nicht übernommen.
error-no-profile = Legen Sie zuerst Ihr Blog an.
error-profile-exists = Auf diesem Computer gibt es schon ein Blog.
error-io = Eine Datei konnte nicht gelesen oder geschrieben werden. Prüfen Sie, ob genug Platz frei ist.
error-damaged-file = Eine Datei Ihres Blogs ist beschädigt. Nichts wurde überschrieben; das Protokoll der App nennt sie.
error-newer-version = Diese Daten stammen von einer neueren Version von Spokes. Aktualisieren Sie die App.
error-wrong-passphrase = Die Passphrase stimmt nicht.
error-device-removed = Dieser Computer wurde aus Ihrem Blog entfernt und kann nicht mehr dafür signieren.
error-own-device = Diesen Computer können Sie nicht von sich selbst aus entfernen.
error-not-that-device = Dieser Computer gehört nicht zu Ihrem Blog.
error-archive = Diese Exportdatei ist unvollständig oder beschädigt.
error-pairing = Die Kopplung mit dem anderen Computer hat nicht geklappt. Lassen Sie sich einen neuen Code zeigen.
error-still-published = Ziehen Sie den Beitrag zuerst zurück.
error-identity = Mit diesem Schlüssel stimmt etwas nicht.
error-edit-mismatch = Der Text wurde neu abgeglichen. Nichts ist verloren.
error-document = Ein Teil Ihres Blogs konnte nicht gelesen werden.
error-import = Diese Dateien konnten nicht übernommen werden.
error-bad-ticket = Das ist keine Einladung von Spokes. Sie beginnt mit spokes1.
error-signing = Das Signieren hat nicht geklappt.
error-no-such-post = Diesen Beitrag gibt es nicht mehr.
error-bad-address = Nur Webadressen (http oder https) lassen sich öffnen.
error-local-spoke = Der eingebaute Spoke konnte nicht starten.
error-locked = Entsperren Sie zuerst mit Ihrer Passphrase.
error-missing-field = Bitte füllen Sie alle Felder aus.
error-no-browser = Ihr Webbrowser ließ sich nicht öffnen.
error-no-such-spoke = Dieser Spoke stand nicht auf Ihrer Liste.
error-no-title = Geben Sie dem Blog einen Titel.
error-not-a-recovery-file = Das ist keine Wiederherstellungsdatei von Spokes. Sie heißt spokes-recovery-….json.
error-recovery-unreadable = Diese Datei ließ sich nicht lesen.
error-recovery-without-spokes = In dieser Wiederherstellungsdatei steht kein Spoke, von dem Ihr Blog zu holen wäre.
error-weak-passphrase = Die Passphrase braucht mindestens 8 Zeichen.
error-unknown = Etwas ist schiefgegangen. Versuchen Sie es noch einmal.

## Das druckbare Wiederherstellungsblatt (in Rust gemacht: src-tauri/src/i18n.rs, sheet_words)

sheet-title = Spokes-Wiederherstellungsblatt: { $title }
sheet-heading = Wiederherstellungsblatt
sheet-blog = Blog: { $title } von { $name }
sheet-fingerprint = Fingerabdruck der Identität:
sheet-blog-id = Blog-ID:
sheet-made-on = Erstellt am { $date }.
sheet-if-lost = Wenn dieser Computer verloren geht
sheet-step-install = Installieren Sie Spokes auf einem anderen Computer und öffnen Sie es.
sheet-step-choose = Wählen Sie { $choice }, dann die Wiederherstellungsdatei, die Sie gespeichert haben, und geben Sie Ihre Passphrase ein. Ihr Blog und Ihre Entwürfe kommen von jedem Ihrer Spokes zurück.
sheet-step-scan = Keine Kopie der Datei? Scannen Sie die Codes unten der Reihe nach mit einem Telefon und schreiben Sie ihren Text nacheinander in eine einfache Textdatei namens { $file } (oder tippen Sie den Text ab, der am Ende dieses Blatts steht). Wählen Sie dann diese Datei.
sheet-key-locked = Der Schlüssel unten ist mit Ihrer Passphrase verschlossen, die hier nicht steht. Bewahren Sie dieses Blatt nicht dort auf, wo Sie Ihre Passphrase notiert haben.
sheet-your-spokes = Ihre Spokes
sheet-as-codes = Die Wiederherstellungsdatei als Codes
sheet-too-long = (zu lang für einen Code: tippen Sie diesen Teil ab)
sheet-part = Teil { $i } von { $n }
sheet-file = Wiederherstellungsdatei
