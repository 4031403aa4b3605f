// The one module through which the UI talks to Rust: typed wrappers over Tauri `invoke`.
import { Channel, convertFileSrc, invoke } from "@tauri-apps/api/core";
import type { Splice } from "./splices";
import type { Code } from "./generated/Code";
import type { Problem } from "./generated/Problem";
import { problemText } from "./i18n";

/** An error from Rust: a stable code and a sentence for the writer (generated from
 *  `spokes_core::problem`; `UPDATE_BINDINGS=1 cargo test -p spokes-core generated_typescript`). */
export type UiError = Problem;
export type { Code };
/** Where this copy of the app stands with updates (src-tauri/src/commands/updates.rs). */
export type UpdateCheck =
  | { state: "elsewhere" | "not-set-up" | "unchecked" | "up-to-date"; version: string }
  | { state: "available"; version: string; new_version: string; notes: string | null };
/** Bytes of an update received so far, and its size when the server said it. */
export interface UpdateProgress { received: number; total: number | null }
export interface SpokeEntry { endpoint: string; addrs: string[]; name?: string | null; added_at: string; web?: string | null }
export interface Overview {
  has_profile: boolean; unlocked: boolean; name: string; blog_title: string;
  fingerprint: string; local_blog_url: string | null; spokes: SpokeEntry[]; blog_id: string;
  /** Unpublishing deletes a post's words from the spokes (the blog is one document per post). */
  documents_per_post: boolean;
  /** The profile is being upgraded from an older layout: ask again shortly. */
  preparing: boolean;
}
export interface Post {
  id: string; title: string; body: string; slug: string; tags: string[];
  date: string; updated: string; state: "draft" | "published" | "unpublished";
}
export interface PostSummary { post: Post; published: boolean; changed_since_published: boolean }
export interface SpokeStatus {
  endpoint: string; name?: string | null; last_attempt?: string | null; last_success?: string | null;
  last_error?: UiError | null; up_to_date: boolean;
}
export interface Revision { heads: string[]; signed_at: number; device_key: string; device?: string | null; post: Post }
export interface DiffPart { kind: "same" | "added" | "removed"; text: string }
/** The blog's name in its council's domain, signed by its author (only `claimName` changes it). */
export interface NameBinding { name: string; zone: string; signature: string }
export interface BlogSettings { title: string; description: string; language: string; handle: string; name?: NameBinding | null }
/** The two records a writer's own domain needs: a CNAME to the blog's name, and the signed proof. */
export interface DomainSetup { domain: string; cname: string; proof_name: string; proof: string[] }
/** What claiming a name ended in: `yours`, or taken with free names like it. */
export interface NameResult { yours: boolean; fqdn: string; alternatives: string[] }
export interface DeviceKey { fingerprint: string; name?: string | null; created_at: number; revoked_at?: number | null; revocation_reason?: string | null; primary: boolean; lost: boolean }
/** One publish another computer signed: `index` picks it when that computer is declared lost. */
export interface DevicePublish { index: number; heads: string[]; signed_at: number; titles: string[] }
export interface IdentityDetails { name: string; fingerprint: string; this_device?: string | null; devices: DeviceKey[] }
/** What an import would bring in: each post's title, date and notes, what stays out and why. */
export interface ImportPreview {
  /** Each note: a stable `code` (`spokes_core::import::ImportNote`) and its details (`src`, `field`, `value`, `list`, `reason`). */
  posts: { title: string; date: string; notes: ({ code: string } & Record<string, string>)[] }[];
  /** `reason` is `SkipReason`'s code (`not-writing`, `trashed`, …); `why` says it in English. */
  skipped: { what: string; why: string; reason: string }[];
  pictures: number;
}
export interface ImportDone { posts: number; pictures: number; skipped: number }
export interface PublishSummary { total: number; up_to_date: number; spokes: SpokeStatus[]; sentence: string }

/** Turns whatever a failed invoke threw into a UiError, its message in the app's language. */
export function asUiError(e: unknown): UiError {
  if (e && typeof e === "object" && "message" in e) {
    const o = e as { code?: Code; message: string; detail?: string };
    const code = o.code ?? "unknown";
    return { code, message: problemText(code, o.message, o.detail) };
  }
  return { code: "unknown", message: problemText("unknown", String(e)) };
}

export const api = {
  overview: () => invoke<Overview>("get_overview"),
  /** Tells the app the writing screen is ready, with the page's start timings (for diagnostics and the benchmark). */
  screenReady: (steps: Record<string, number>) => invoke<void>("screen_ready", { steps }),
  createIdentity: (name: string, blogTitle: string, passphrase: string) =>
    invoke<Overview>("create_identity", { name, blogTitle, passphrase }),
  /** Starts a blog with an existing OpenPGP key (a GnuPG export file) and its passphrase. */
  createFromKey: (keyPath: string, blogTitle: string, passphrase: string) =>
    invoke<Overview>("create_from_key", { keyPath, blogTitle, passphrase }),
  unlock: (passphrase: string) => invoke<Overview>("unlock", { passphrase }),
  /** The post list, newest first; `post.body` is empty here (open a post with getPost). */
  listPosts: () => invoke<PostSummary[]>("list_posts"),
  newPost: () => invoke<Post>("new_post"),
  /** The newest post, whole (null when there is none): what the writing screen opens on. */
  newestPost: () => invoke<Post | null>("newest_post"),
  getPost: (id: string) => invoke<Post>("get_post", { id }),
  savePost: (id: string, title: string, body: string) => invoke<void>("save_post", { id, title, body }),
  saveEdits: (id: string, title: string, splices: Splice[], bodyLen: number) =>
    invoke<void>("save_edits", { id, title, splices, bodyLen }),
  /** Sanitised HTML; pictures stored with the blog show from the app's `spokes-image:` scheme. */
  preview: (markdown: string) => invoke<string>("preview", { markdown, imageBase: convertFileSrc("", "spokes-image") }),
  /** Changes a draft's address (slug), tags or date (RFC 3339; a future date schedules it). */
  setPostDetails: (id: string, details: { slug?: string; tags?: string[]; date?: string }) =>
    invoke<Post>("set_post_details", { id, details }),
  /** Renders Markdown blocks (see blocks.ts) like `preview`, one HTML string per block. */
  previewBlocks: (blocks: string[]) => invoke<string[]>("preview_blocks", { blocks, imageBase: convertFileSrc("", "spokes-image") }),
  /** Keeps a picture with the blog; returns the Markdown that shows it. */
  addImage: (bytes: Uint8Array, alt: string) =>
    invoke<string>("add_image", bytes, { headers: { "x-alt": encodeURIComponent(alt) } }),
  publish: (id: string | null) => invoke<PublishSummary>("publish", { id }),
  publishStatus: () => invoke<PublishSummary>("publish_status"),
  /** Whether a publish has more to send than changed posts (settings, spokes, a scheduled post due). */
  unsignedChanges: () => invoke<boolean>("unsigned_changes"),
  addSpoke: (ticket: string) => invoke<Overview>("add_spoke", { ticket }),
  takeInvite: () => invoke<string | null>("take_invite"),
  /** Tells the Rust side the page's language (`en`, `de`): the menu bar and notifications follow. */
  setLanguage: (language: string) => invoke<void>("set_language", { language }),
  /** Where this copy stands with updates; with `look`, asks the update server for a newer
   *  version (only a copy running from an AppImage does; without `look` nothing is sent). */
  checkForUpdate: (look: boolean) => invoke<UpdateCheck>("check_for_update", { look }),
  /** Downloads, verifies and installs the version the last check found; it runs from the next start. */
  installUpdate: (onProgress: (p: UpdateProgress) => void) => {
    const progress = new Channel<UpdateProgress>();
    progress.onmessage = onProgress;
    return invoke<void>("install_update", { progress });
  },
  /** Starts the app again (the new version, after an update). */
  restartApp: () => invoke<void>("restart_app"),
  /** The desktop's locales, most wanted first (BCP 47 tags). */
  systemLocales: () => invoke<string[]>("system_locales"),
  /** Spell checking for writing in `language` (the blog's); the dictionaries the web view took. */
  setSpelling: (language: string) => invoke<string[]>("set_spelling", { language }),
  /** Saves the recovery file to `path` (from the save dialog), else into Documents; returns where. */
  saveRecoveryFile: (path: string | null = null) => invoke<string>("save_recovery_file", { path }),
  /** Where the save dialogs start, in the Documents folder. */
  suggestedPaths: () => invoke<{ recovery: string; export: string }>("suggested_paths"),
  /** Brings a blog back on this computer from a recovery file and its passphrase (from its spokes). */
  restoreBlog: (recoveryPath: string, passphrase: string) => invoke<Overview>("restore_blog", { recoveryPath, passphrase }),
  /** The printable recovery sheet, a whole HTML page. */
  recoverySheet: () => invoke<string>("recovery_sheet"),
  /** Withdraws a post from readers (a signed revision), then tells the spokes. */
  unpublish: (id: string) => invoke<PublishSummary>("unpublish", { id }),
  /** Puts a draft in the bin; `undoDelete` takes it back. */
  deletePost: (id: string) => invoke<void>("delete_post", { id }),
  undoDelete: (id: string) => invoke<void>("undo_delete", { id }),
  getSettings: () => invoke<BlogSettings>("get_settings"),
  /** Readers see new settings after the next publish. */
  saveSettings: (settings: BlogSettings) => invoke<Overview>("save_settings", { settings }),
  /** Claims a name for the blog in its council's domain, then publishes. */
  claimName: (name: string) => invoke<NameResult>("claim_name", { name }),
  /** The records the blog's own domain needs (none without a name and a domain). */
  getDomain: () => invoke<DomainSetup | null>("get_domain"),
  /** Binds a domain the writer owns to the blog, publishes, and returns the records to add. */
  setDomain: (domain: string) => invoke<DomainSetup>("set_domain", { domain }),
  removeDomain: () => invoke<void>("remove_domain"),
  /** Gives the blog's name up; returns it. */
  releaseName: () => invoke<string>("release_name"),
  identityDetails: () => invoke<IdentityDetails>("identity_details"),
  /** What another computer published, oldest first. */
  devicePublishes: (fingerprint: string) => invoke<DevicePublish[]>("device_publishes", { fingerprint }),
  /** Removes another computer (`lost`: for good, keeping its publishes up to `keep`), then tells the spokes. */
  removeDevice: (fingerprint: string, passphrase: string, lost: boolean, keep: number | null) =>
    invoke<IdentityDetails>("remove_device", { fingerprint, passphrase, lost, keep }),
  /** Opens a web page (http or https only) in the writer's browser. */
  openInBrowser: (url: string) => invoke<void>("open_in_browser", { url }),
  removeSpoke: (endpoint: string) => invoke<Overview>("remove_spoke", { endpoint }),
  /** Writes everything to an archive at `path` (from the save dialog), else into Documents; returns where. */
  /** What importing these paths (an export file or a blog's folder) would bring in; writes nothing. */
  importPreview: (paths: string[]) => invoke<ImportPreview>("import_preview", { paths }),
  /** Imports these paths as drafts. */
  importPosts: (paths: string[]) => invoke<ImportDone>("import_posts", { paths }),
  /** Protects this computer's keys with a new passphrase; the next publish asks for it. */
  changePassphrase: (oldPassphrase: string, newPassphrase: string) => invoke<void>("change_passphrase", { old: oldPassphrase, new: newPassphrase }),
  /** Shows a pairing code for another computer and waits for it (the end comes as a `paired` event). */
  pairStart: (passphrase: string) => invoke<{ code: string; qr_svg: string | null }>("pair_start", { passphrase }),
  /** Stops waiting for the other computer. */
  pairCancel: () => invoke<void>("pair_cancel"),
  /** Makes this computer one of the writer's, from a code shown on another. */
  pairJoin: (code: string, passphrase: string) => invoke<Overview>("pair_join", { code, passphrase }),
  /** Writes the published blog as a static website into a folder; returns how many files. */
  exportSite: (path: string) => invoke<number>("export_site", { path }),
  exportArchive: (path: string | null = null) => invoke<string>("export_archive", { path }),
  /** Every published revision of a post, newest first. */
  postHistory: (id: string) => invoke<Revision[]>("post_history", { id }),
  diffText: (oldText: string, newText: string) => invoke<DiffPart[]>("diff_text", { old: oldText, new: newText }),
  /** Makes a published revision the current draft again (publish to sign it anew). */
  restoreRevision: (id: string, heads: string[]) => invoke<Post>("restore_revision", { id, heads }),
};
