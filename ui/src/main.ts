// Spokes desktop UI: onboarding, unlock, and the writing screen. All Rust calls go through api.ts.
import { api, asUiError, type Overview, type Post, type PostSummary, type PublishSummary, type Revision, type BlogSettings, type SpokeStatus, type IdentityDetails, type DevicePublish } from "./api";
import { Autosaver, type SaveState } from "./autosave";
import { SpliceTracker, type Splice } from "./splices";
import { MarkdownEditor } from "./editor";
import { BlockPreview } from "./blocks";
import { listen } from "@tauri-apps/api/event";
import { open as openDialog, save as saveDialog } from "@tauri-apps/plugin-dialog";
import { code, link, permalinkBase, prefixLines, revisionLabels, wordCountLine, wrap, type Edit } from "./format";

const root = document.getElementById("app")!;

/** The writer's theme: follow the system, or always light, or always dark (kept on this computer). */
type Theme = "auto" | "light" | "dark";
const THEME_WORDS: Record<Theme, string> = { auto: "Theme: like the system", light: "Theme: light", dark: "Theme: dark" };
function applyTheme(t: Theme) {
  if (t === "auto") delete document.documentElement.dataset.theme; else document.documentElement.dataset.theme = t;
}
function savedTheme(): Theme {
  const t = localStorage.getItem("theme");
  return t === "light" || t === "dark" ? t : "auto";
}
applyTheme(savedTheme());

function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...kids: (Node | string)[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  for (const k of kids) el.append(k);
  return el;
}

function field(label: string, input: HTMLInputElement): HTMLElement {
  return h("label", {}, h("span", {}, label), input);
}

function errorLine(): HTMLParagraphElement {
  return h("p", { class: "error", role: "alert", id: "error" });
}

/** Milliseconds since the page began loading at each step of the first screen (benchmarks read it). */
const startTimings: Record<string, number> = ((window as unknown as { spokesStart: Record<string, number> }).spokesStart = {});
const mark = (step: string) => { startTimings[step] = Math.round(performance.now()); };

async function start() {
  mark("script");
  try {
    const o = await api.overview();
    mark("overview");
    if (!o.has_profile) return onboarding();
    // Writing needs no key: the passphrase is asked for the first time the writer publishes.
    return writingScreen(o);
  } catch (e) {
    root.replaceChildren(h("p", { class: "error" }, asUiError(e).message));
  }
}

function onboarding() {
  const name = h("input", { id: "name", autocomplete: "name", placeholder: "Ada Lovelace" });
  const title = h("input", { id: "blog-title", placeholder: "Notes from the engine room" });
  const pass = h("input", { id: "passphrase", type: "password", autocomplete: "new-password" });
  const pass2 = h("input", { id: "passphrase2", type: "password", autocomplete: "new-password" });
  const err = errorLine();
  const button = h("button", { id: "create", type: "submit", class: "primary" }, "Create my blog");
  const form = h("form", { class: "card" },
    h("h1", {}, "Welcome to Spokes"),
    h("p", {}, "Your blog lives on this computer. Everything you publish is signed with a key only you hold, so nobody can change your words without it showing."),
    field("Your name, as readers will see it", name),
    field("Your blog's title", title),
    field("A passphrase to protect your key (at least 8 characters)", pass),
    field("The same passphrase again", pass2),
    err, button);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    err.textContent = "";
    if (pass.value !== pass2.value) { err.textContent = "The two passphrases are different."; return; }
    button.disabled = true;
    button.textContent = "Creating your key…";
    try {
      const o = await api.createIdentity(name.value, title.value, pass.value);
      recoveryStep(o);
    } catch (e) {
      err.textContent = asUiError(e).message;
      button.disabled = false;
      button.textContent = "Create my blog";
    }
  });
  const restoreLink = h("button", { id: "restore-start", type: "button", class: "link" }, "I already have a blog: bring it back with my recovery file");
  restoreLink.addEventListener("click", () => restoreScreen());
  root.replaceChildren(h("main", { class: "center" }, form, h("p", { class: "center-note" }, restoreLink)));
  name.focus();
}

/**
 * A new computer, or one that was wiped: the recovery file (picked in the desktop's open
 * dialog) and its passphrase bring back the name, the key and the whole blog from its spokes.
 */
function restoreScreen() {
  let chosen: string | null = null;
  const pick = h("button", { id: "restore-pick", type: "button" }, "Choose the recovery file…");
  const file = h("p", { id: "restore-file", class: "muted" }, "No file chosen yet. It is named spokes-recovery-….json, often in your Documents folder.");
  const pass = h("input", { id: "restore-pass", type: "password", autocomplete: "current-password" });
  const err = errorLine();
  const go = h("button", { id: "restore-go", type: "submit", class: "primary" }, "Bring my blog back");
  const back = h("button", { id: "restore-back", type: "button" }, "Back");
  const form = h("form", { class: "card" },
    h("h1", {}, "Bring your blog back"),
    h("p", {}, "Your recovery file and your passphrase bring back your name, your key and your whole blog, with its history and drafts, from the spokes that host it."),
    h("div", { class: "toolbar" }, pick), file,
    field("The passphrase you chose for it", pass),
    err, h("div", { class: "toolbar" }, back, go));
  pick.addEventListener("click", async () => {
    err.textContent = "";
    try {
      const path = await openDialog({ title: "Choose your recovery file", multiple: false, directory: false, filters: [{ name: "Spokes recovery file", extensions: ["json"] }] });
      if (typeof path !== "string") return;
      chosen = path;
      file.textContent = path;
      pass.focus();
    } catch (e) { err.textContent = asUiError(e).message; }
  });
  back.addEventListener("click", () => onboarding());
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    err.textContent = "";
    if (!chosen) { err.textContent = "Choose your recovery file first."; return; }
    go.disabled = true;
    go.textContent = "Fetching your blog from its spokes…";
    try {
      const o = await api.restoreBlog(chosen, pass.value);
      await writingScreen(o);
    } catch (e) {
      err.textContent = asUiError(e).message;
      go.disabled = false;
      go.textContent = "Bring my blog back";
    }
  });
  root.replaceChildren(h("main", { class: "center" }, form));
  pick.focus();
}

/**
 * Asks where, in the desktop's save dialog (starting in the Documents folder), and saves the
 * recovery file there. Returns the path it was saved to, or null when the writer cancels.
 */
async function saveRecoveryAs(): Promise<string | null> {
  const path = await saveDialog({ title: "Save your recovery file", defaultPath: (await api.suggestedPaths()).recovery, filters: [{ name: "Spokes recovery file", extensions: ["json"] }] });
  return path ? await api.saveRecoveryFile(path) : null;
}

/**
 * The last onboarding step: the recovery file is saved at once (a writer who clicks straight
 * through still has one), the sheet can be printed, then writing starts.
 */
async function recoveryStep(o: Overview) {
  const err = errorLine();
  const where = h("code", { id: "recovery-path" }, "…");
  const print = h("button", { id: "recovery-print", type: "button" }, "Show a printable sheet");
  const copy = h("button", { id: "recovery-copy", type: "button", title: "For example on a USB stick" }, "Save a copy…");
  const copied = h("p", { id: "recovery-copied", class: "muted", role: "status" });
  const done = h("button", { id: "recovery-done", type: "button", class: "primary" }, "Next");
  const card = h("section", { class: "card", "aria-labelledby": "recovery-heading" },
    h("h1", { id: "recovery-heading" }, "Keep a way back in"),
    h("p", {}, "If this computer is lost or breaks, your recovery file and your passphrase bring back your name and your whole blog on a new one."),
    h("p", {}, "Saved to ", where),
    h("p", { class: "muted" }, "Copy it to a USB stick or another safe place, or print the sheet and keep it with your papers. Without your passphrase it opens nothing."),
    err, copied, h("div", { class: "toolbar" }, copy, print, done));
  root.replaceChildren(h("main", { class: "center" }, card));
  done.focus();
  copy.addEventListener("click", async () => {
    try {
      const path = await saveRecoveryAs();
      if (path) copied.textContent = `Also saved to ${path}`;
    } catch (e) { err.textContent = asUiError(e).message; }
  });
  try { where.textContent = await api.saveRecoveryFile(); } catch (e) { where.textContent = "not saved"; err.textContent = asUiError(e).message; }
  print.addEventListener("click", async () => {
    try {
      const frame = h("iframe", { id: "recovery-sheet", title: "Recovery sheet", class: "sheet" });
      frame.srcdoc = await api.recoverySheet();
      const printNow = h("button", { id: "sheet-print", type: "button", class: "primary" }, "Print");
      const close = h("button", { id: "sheet-close", type: "button" }, "Close");
      const dialog = h("dialog", { id: "sheet-dialog" }, frame, h("div", { class: "toolbar" }, close, printNow));
      printNow.addEventListener("click", () => frame.contentWindow?.print());
      close.addEventListener("click", () => { dialog.close(); dialog.remove(); });
      document.body.append(dialog);
      dialog.showModal();
    } catch (e) { err.textContent = asUiError(e).message; }
  });
  done.addEventListener("click", () => spokesStep(o));
}

/** The last step: where the blog will live. Spokes from invites, or this computer for now. */
function spokesStep(o: Overview) {
  const err = errorLine();
  const ticket = h("input", { id: "onboard-ticket", placeholder: "spokes1… or a link that contains it", "aria-label": "Invite" });
  const add = h("button", { id: "onboard-add", type: "button" }, "Add this spoke");
  const added = h("ul", { id: "onboard-spokes", class: "muted" });
  const done = h("button", { id: "onboard-done", type: "button", class: "primary" }, "Start writing");
  const local = h("p", { class: "muted" }, "No invite yet? Keep your blog on this computer for now: you can read it in your browser, and add spokes later in the sidebar.");
  const card = h("section", { class: "card", "aria-labelledby": "spokes-heading" },
    h("h1", { id: "spokes-heading" }, "Where your blog will live"),
    h("p", {}, "Spokes are small servers run by different people. Each one you add keeps a copy of your blog and shows it to readers, so none of them can take it down alone. A spoke's operator gives you an invite."),
    field("Invite", ticket), h("div", { class: "toolbar" }, add), added, local, err,
    h("div", { class: "toolbar" }, done));
  root.replaceChildren(h("main", { class: "center" }, card));
  ticket.focus();
  add.addEventListener("click", async () => {
    err.textContent = "";
    try {
      o = await api.addSpoke(ticket.value);
      ticket.value = "";
      added.replaceChildren(...o.spokes.map((sp) => h("li", {}, `${sp.name ?? "A spoke"}: added. Your first publish sends your blog there.`)));
      done.textContent = "Start writing";
    } catch (e) { err.textContent = asUiError(e).message; }
  });
  ticket.addEventListener("keydown", (ev) => { if (ev.key === "Enter") add.click(); });
  done.addEventListener("click", () => writingScreen(o));
}

/**
 * Asks for the passphrase (the first publish after the app starts). Resolves true once the key
 * is unlocked, false if the writer cancels.
 */
function askPassphrase(o: Overview): Promise<boolean> {
  const pass = h("input", { id: "unlock-pass", type: "password", autocomplete: "current-password" });
  const err = errorLine();
  const cancel = h("button", { id: "unlock-cancel", type: "button" }, "Not now");
  const form = h("form", { method: "dialog", class: "card" },
    h("h2", {}, "Your passphrase"),
    h("p", {}, `Publishing signs your words with ${o.name}'s key. Enter your passphrase to unlock it until you close Spokes.`),
    field("Passphrase", pass), err,
    h("div", { class: "toolbar" }, cancel, h("button", { id: "unlock", type: "submit", class: "primary" }, "Unlock and publish")));
  const dialog = h("dialog", { id: "unlock-dialog" }, form);
  document.body.append(dialog);
  return new Promise((resolve) => {
    const done = (ok: boolean) => { dialog.close(); dialog.remove(); resolve(ok); };
    cancel.addEventListener("click", () => done(false));
    dialog.addEventListener("cancel", (ev) => { ev.preventDefault(); done(false); }); // Escape
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      err.textContent = "";
      try { await api.unlock(pass.value); done(true); } catch (e) { err.textContent = asUiError(e).message; pass.select(); }
    });
    dialog.showModal();
    pass.focus();
  });
}

/** Whether the writer is typing in a field other than the editor's own (focus stays there). */
function typing(): boolean {
  const a = document.activeElement;
  return a instanceof HTMLInputElement && a.id !== "title";
}

const SAVE_WORDS: Record<SaveState, string> = { saved: "Saved", unsaved: "Editing…", saving: "Saving…", error: "Not saved: retrying when you type" };

async function writingScreen(o: Overview) {
  // The newest post and the list are asked for first, while the screen is built: when they
  // come quickly (every start with a post-list snapshot), the screen is drawn once, with the
  // post in it. Each frame of this screen costs the web view a few hundred milliseconds on a
  // small machine, so drawing it empty first would make the writer wait for two.
  const listed = api.listPosts();
  const newestPost = api.newestPost();
  const quickly = <T,>(p: Promise<T>) => Promise.race([p.then(() => true, () => true), new Promise<boolean>((r) => setTimeout(() => r(false), 300))]);
  let current: Post | null = null;
  const list = h("ul", { class: "post-list", id: "post-list" });
  const title = h("input", { id: "title", class: "title", placeholder: "Title", "aria-label": "Title" });
  // The editor (CodeMirror 6); its edits go to Rust as the splices CodeMirror reports.
  const bodyBox = h("div", { class: "body" });
  let onBodyEdit: (splices: Splice[], text: string) => void = () => {};
  let onBodyForetold: (text: string) => void = () => {};
  const body = new MarkdownEditor(bodyBox, (splices, text) => onBodyEdit(splices, text), {
    paste: (ev) => {
      const files = Array.from(ev.clipboardData?.files ?? []);
      if (!files.some((f) => f.type.startsWith("image/"))) return false;
      ev.preventDefault(); void addImages(files); return true;
    },
    drop: (ev) => {
      const files = Array.from(ev.dataTransfer?.files ?? []);
      if (!files.length) return false;
      ev.preventDefault(); void addImages(files); return true;
    },
    foretold: (text) => onBodyForetold(text),
  });
  (window as unknown as { spokesEditor: MarkdownEditor }).spokesEditor = body; // for the window test and the benchmark
  const preview = h("article", { id: "preview", class: "preview", "aria-label": "Preview" });
  const saveState = h("span", { id: "save-state", class: "muted" }, "Saved");
  // No post is open until the first one comes: typing is held until then, so nothing typed
  // into an empty editor is lost when the post replaces it (after a crash, a large blog can
  // take seconds to load).
  holdEditor();
  const status = h("span", { id: "status", class: "status" }, "");
  const offlineBadge = h("span", { id: "offline", class: "offline", title: "Your writing is saved on this computer. It goes out to your spokes as soon as one can be reached." }, "Offline");
  offlineBadge.hidden = true;
  const publishBtn = h("button", { id: "publish", class: "primary", title: "Publish (Ctrl+Enter)" }, "Publish");
  const historyBtn = h("button", { id: "history", title: "Earlier versions (Ctrl+H)" }, "History");
  const detailsBtn = h("button", { id: "details", title: "Web address, tags and publication date (Ctrl+D)" }, "Details");
  const unpublishBtn = h("button", { id: "unpublish", title: "Take this post off your spokes (signed, and kept in the history)" }, "Unpublish");
  const deleteBtn = h("button", { id: "delete", title: "Move this draft to the bin (you can undo)" }, "Delete");
  const search = h("input", { id: "search", type: "search", placeholder: "Search titles and tags", "aria-label": "Search posts" });
  const filter = h("select", { id: "filter", "aria-label": "Show" },
    h("option", { value: "all" }, "All posts"), h("option", { value: "drafts" }, "Drafts"),
    h("option", { value: "published" }, "Published"), h("option", { value: "changed" }, "Changed since published"));
  const notice = h("p", { id: "notice", class: "notice", role: "status" });
  const wordCount = h("span", { id: "word-count", class: "muted" });
  const focusBtn = h("button", { id: "focus", type: "button", title: "Focus: only the text (Ctrl+Shift+F)" }, "Focus");

  // Formatting: each applies one edit to the text, which then goes the way typing goes.
  const applyEdit = (f: (t: string, a: number, b: number) => Edit) => {
    const e = f(body.value, body.selectionStart, body.selectionEnd);
    body.edit(e.text, e.start, e.end);
    body.focus();
  };
  const FORMATS: [string, string, string, (t: string, a: number, b: number) => Edit][] = [
    ["fmt-bold", "B", "Bold (Ctrl+B)", (t, a, b) => wrap(t, a, b, "**")],
    ["fmt-italic", "I", "Italic (Ctrl+I)", (t, a, b) => wrap(t, a, b, "_")],
    ["fmt-heading", "H", "Heading (Ctrl+Shift+H)", (t, a, b) => prefixLines(t, a, b, "## ")],
    ["fmt-link", "Link", "Link (Ctrl+K)", link],
    ["fmt-quote", "“ ”", "Quote (Ctrl+Shift+Q)", (t, a, b) => prefixLines(t, a, b, "> ")],
    ["fmt-list", "List", "List (Ctrl+Shift+L)", (t, a, b) => prefixLines(t, a, b, "- ")],
    ["fmt-code", "Code", "Code (Ctrl+E)", code],
  ];
  // Pictures: pasted, dropped, or picked with the Image button; each is kept with the blog
  // (by its hash) and its Markdown goes in at the caret like any other edit.
  const imageInput = h("input", { id: "image-file", type: "file", accept: "image/png,image/jpeg,image/gif,image/webp,image/avif", multiple: "", hidden: "" });
  const imageBtn = h("button", { id: "fmt-image", type: "button", title: "Picture (Ctrl+Shift+I)", "aria-label": "Picture (Ctrl+Shift+I)" }, "Image");
  imageBtn.addEventListener("mousedown", (ev) => ev.preventDefault());
  imageBtn.addEventListener("click", () => imageInput.click());
  const addImages = async (files: File[]) => {
    const pictures = files.filter((f) => f.type.startsWith("image/"));
    if (!pictures.length || !current) return;
    notice.textContent = pictures.length === 1 ? "Adding the picture…" : `Adding ${pictures.length} pictures…`;
    try {
      for (const f of pictures) {
        const alt = f.name.replace(/\.[a-z0-9]+$/i, "").replace(/[-_]+/g, " ");
        const md = await api.addImage(new Uint8Array(await f.arrayBuffer()), alt);
        applyEdit((t, a, b) => {
          const before = a > 0 && t[a - 1] !== "\n" ? "\n\n" : "";
          const ins = `${before}${md}\n`;
          return { text: t.slice(0, a) + ins + t.slice(b), start: a + ins.length, end: a + ins.length };
        });
      }
      notice.textContent = "";
    } catch (e) { notice.textContent = asUiError(e).message; }
  };
  imageInput.addEventListener("change", () => {
    const files = Array.from(imageInput.files ?? []);
    imageInput.value = "";
    void addImages(files);
  });
  const formatBar = h("div", { id: "format-bar", class: "format-bar", role: "toolbar", "aria-label": "Formatting" },
    ...FORMATS.map(([id, label, tip, f]) => {
      const b = h("button", { id, type: "button", title: tip, "aria-label": tip }, label);
      b.addEventListener("mousedown", (ev) => ev.preventDefault()); // keep the selection in the text
      b.addEventListener("click", () => applyEdit(f));
      return b;
    }), imageBtn, imageInput, h("span", { class: "spacer" }), wordCount, focusBtn);
  let countTimer: ReturnType<typeof setTimeout> | null = null;
  const updateCount = () => {
    if (countTimer) clearTimeout(countTimer);
    countTimer = setTimeout(() => { wordCount.textContent = wordCountLine(body.value); }, 250);
  };
  focusBtn.addEventListener("click", () => root.classList.toggle("focus"));
  const themeBtn = h("button", { id: "theme", class: "theme", type: "button" }, THEME_WORDS[savedTheme()]);
  const settingsBtn = h("button", { id: "settings", class: "theme", type: "button", title: "Settings (Ctrl+,)" }, "Settings");
  settingsBtn.addEventListener("click", () => void settings());
  themeBtn.addEventListener("click", () => {
    const next: Theme = { auto: "light", light: "dark", dark: "auto" }[savedTheme()] as Theme;
    localStorage.setItem("theme", next);
    applyTheme(next);
    themeBtn.textContent = THEME_WORDS[next];
  });
  const newBtn = h("button", { id: "new-post", title: "New post (Ctrl+N)" }, "New post");
  const ticket = h("input", { id: "ticket", placeholder: "Paste an invite (spokes1…)" });
  const addSpoke = h("button", { id: "add-spoke" }, "Add spoke");
  const spokeMsg = h("p", { id: "spoke-msg", class: "muted" });
  const blogLink = h("p", { id: "blog-link", class: "muted" });
  const err = errorLine();

  // Edits go to Rust as splices; the whole text only if the two sides ever disagree.
  const edits = new SpliceTracker("");
  const saver = new Autosaver(700, async () => {
    if (!current) return;
    const { splices, length } = edits.take();
    try {
      await api.saveEdits(current.id, title.value, splices, length);
    } catch (e) {
      if (asUiError(e).code !== "edit-mismatch") { edits.restore(splices); throw e; }
      await api.savePost(current.id, title.value, edits.current);
    }
    // A saved edit of a published post shows "Changed" (without re-reading the whole list).
    const badge = list.querySelector("li.active .badge");
    if (badge && (badge.textContent === "Published" || badge.textContent === "Scheduled")) badge.textContent = "Changed";
  }, (s) => { saveState.textContent = SAVE_WORDS[s]; }, 1000);

  // The preview follows every keystroke, re-rendering only the blocks that changed.
  const blockPreview = new BlockPreview(preview, (blocks) => api.previewBlocks(blocks));
  (window as unknown as { spokesPreview: BlockPreview }).spokesPreview = blockPreview; // for the benchmark
  const renderPreview = (text: string = body.value) => { void blockPreview.update(`# ${title.value}\n\n${text}`); };


  function showLink(ov: Overview) {
    blogLink.textContent = "";
    if (ov.spokes.length === 0 && ov.local_blog_url) {
      blogLink.append("Your blog on this computer: ", h("a", { href: ov.local_blog_url, id: "local-blog-url", target: "_blank" }, ov.local_blog_url));
    } else if (ov.spokes.length > 0) {
      blogLink.textContent = `Hosted by ${ov.spokes.length} spoke${ov.spokes.length === 1 ? "" : "s"}.`;
    }
  }

  let summaries: PostSummary[] = [];
  // A published post dated later is "Scheduled": readers see it from its date.
  const stateOf = (s: PostSummary) =>
    !s.published ? (s.post.state === "unpublished" ? "Unpublished" : "Draft") : s.changed_since_published ? "Changed"
      : Date.parse(s.post.date) > Date.now() ? "Scheduled" : "Published";
  /** Shows the posts that match the search words and the filter. */
  function renderList() {
    const words = search.value.toLowerCase().split(/\s+/).filter(Boolean);
    const wanted = filter.value;
    const shown = summaries.filter((s) => {
      const label = stateOf(s);
      const kind = label === "Published" || label === "Scheduled" ? "published" : label === "Changed" ? "changed" : "drafts";
      const text = `${s.post.title} ${s.post.tags.join(" ")}`.toLowerCase();
      return (wanted === "all" || wanted === kind) && words.every((w) => text.includes(w));
    });
    list.replaceChildren(...shown.map((s) => {
      const li = h("li", { "data-id": s.post.id, class: current?.id === s.post.id ? "active" : "" },
        h("span", { class: "post-title" }, s.post.title || "Untitled"), h("span", { class: "badge" }, stateOf(s)));
      li.addEventListener("click", () => void open(s.post.id));
      return li;
    }));
    if (!shown.length) list.append(h("li", { class: "muted empty" }, summaries.length ? "No post matches." : "No posts yet."));
  }
  async function refreshList() {
    summaries = await api.listPosts();
    renderList();
    showPostActions();
    return summaries;
  }
  /** Unpublish for a published post, Delete for the others (a published post is unpublished first). */
  function showPostActions() {
    const s = summaries.find((x) => x.post.id === current?.id);
    unpublishBtn.hidden = !s?.published;
    deleteBtn.hidden = !!s?.published;
    // A post dated later is scheduled: publishing sends it now, spokes show it then.
    const later = !!current && new Date(current.date) > new Date();
    publishBtn.textContent = later ? "Schedule" : "Publish";
    publishBtn.title = later ? "Send it now; readers see it on its date (Ctrl+Enter)" : "Publish (Ctrl+Enter)";
  }

  // While some spokes miss the newest revision, Rust retries them in the background; the
  // status line follows until all have it.
  let polling: ReturnType<typeof setInterval> | null = null;
  function showSummary(s: PublishSummary) {
    const behind = s.total > 0 && s.up_to_date < s.total && s.spokes.some((x) => x.last_attempt);
    // No spoke answered at all: say so plainly, the writing itself is safe here.
    const unreachable = (x: SpokeStatus) => !x.up_to_date && ["connection", "timeout"].includes(x.last_error?.code ?? "unknown");
    const offline = s.total > 0 && s.spokes.every(unreachable);
    offlineBadge.hidden = !offline;
    status.textContent = offline ? `${s.sentence} · will send when a spoke can be reached` : behind ? `${s.sentence} · trying the others again` : s.sentence;
    status.classList.toggle("behind", behind);
    if (behind && !polling) polling = setInterval(() => void refreshStatus(), 3000);
    if (!behind && polling) { clearInterval(polling); polling = null; err.textContent = ""; }
  }
  async function refreshStatus() {
    try { showSummary(await api.publishStatus()); } catch { /* shown on publish */ }
  }

  async function open(id: string) {
    await saver.flush();
    show(await api.getPost(id));
  }

  /** Holds typing while no post is open ([`show`] lets go), and says why. */
  function holdEditor() {
    body.editable = false;
    title.disabled = true;
    saveState.textContent = "Opening…";
  }

  /** Puts `post` in the editor. */
  function show(post: Post) {
    const id = post.id;
    current = post;
    if (!body.editable) {
      body.editable = true;
      title.disabled = false;
      saveState.textContent = SAVE_WORDS.saved;
    }
    title.value = current.title;
    body.value = current.body;
    edits.reset(current.body);
    wordCount.textContent = wordCountLine(current.body);
    blockPreview.reset();
    renderPreview();
    for (const li of Array.from(list.children)) li.classList.toggle("active", (li as HTMLElement).dataset.id === id);
    showPostActions();
    if (!typing()) body.focus();
  }

  /** The post's published revisions: pick one to see what changed since, and restore it. */
  async function history() {
    if (!current) return;
    await saver.flush();
    const post = current;
    const revisions = await api.postHistory(post.id);
    const items = h("ol", { class: "revisions", id: "revisions" });
    const diff = h("pre", { class: "diff", id: "diff", "aria-live": "polite" });
    const restore = h("button", { id: "restore", type: "button", class: "primary", disabled: "" }, "Restore this version");
    const close = h("button", { id: "history-close", type: "button" }, "Close");
    const dialog = h("dialog", { id: "history-dialog", class: "wide" },
      h("h2", {}, `History of “${post.title || "Untitled"}”`),
      revisions.length ? h("p", { class: "muted" }, "Every published version, signed when it was published. Pick one to see how it differs from your text now.")
        : h("p", { class: "muted" }, "This post has not been published yet."),
      items, diff, h("div", { class: "toolbar" }, close, restore));
    let chosen: Revision | null = null;
    let chosenLabel = "";
    const labels = revisionLabels(revisions);
    revisions.forEach((r, i) => {
      const b = h("button", { type: "button", class: "revision", "data-index": String(i) }, labels[i]);
      b.addEventListener("click", async () => {
        chosen = r;
        chosenLabel = labels[i].split(" · ")[0];
        for (const x of Array.from(items.querySelectorAll("button"))) x.classList.toggle("active", x === b);
        restore.removeAttribute("disabled");
        const parts = await api.diffText(r.post.body, body.value);
        diff.replaceChildren(...parts.map((p) => h("span", { class: p.kind }, p.text)));
        if (!parts.some((p) => p.kind !== "same")) diff.replaceChildren(h("span", { class: "same" }, "Same as your text now."));
      });
      items.append(h("li", {}, b));
    });
    close.addEventListener("click", () => { dialog.close(); dialog.remove(); });
    restore.addEventListener("click", async () => {
      if (!chosen) return;
      try {
        await api.restoreRevision(post.id, chosen.heads);
        dialog.close(); dialog.remove();
        await open(post.id);
        await refreshList();
        err.textContent = "";
        status.textContent = `Restored the version of ${chosenLabel}. Publish to make it public again.`;
      } catch (e) { err.textContent = asUiError(e).message; }
    });
    document.body.append(dialog);
    dialog.showModal();
  }

  /** The post's details: its web address, tags and publication date (later = scheduled). */
  async function details() {
    if (!current) return;
    await saver.flush();
    const post = await api.getPost(current.id);
    const pad = (n: number) => String(n).padStart(2, "0");
    const d = new Date(post.date);
    const local = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
    const fSlug = h("input", { id: "slug", value: post.slug, spellcheck: "false" });
    // Readers use the writer's spokes; the built-in one only when no spoke is chosen.
    const ov = await api.overview();
    const base = permalinkBase(ov.spokes, ov.blog_id, ov.local_blog_url);
    const permalink = h("p", { id: "permalink", class: "muted small" });
    const showLink = (slug: string) => { permalink.textContent = `${base}posts/${slug}`; };
    showLink(post.slug);
    fSlug.addEventListener("input", () => showLink(fSlug.value.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, "-").replace(/^-|-$/g, "")));
    const fTags = h("input", { id: "tags", value: post.tags.join(", "), placeholder: "travel, engines" });
    const fDate = h("input", { id: "post-date", type: "datetime-local", value: local });
    const msg = h("p", { id: "details-msg", class: "muted", role: "status" });
    const save = h("button", { id: "details-save", type: "button", class: "primary" }, "Save");
    const close = h("button", { id: "details-close", type: "button" }, "Close");
    const dialog = h("dialog", { id: "details-dialog" },
      h("h2", {}, "Details"),
      h("label", {}, "Web address", fSlug), permalink,
      h("label", {}, "Tags (separated by commas)", fTags),
      h("label", {}, "Publication date", fDate),
      h("p", { class: "muted small" }, "A date in the future schedules the post: after you publish it, your spokes show it from that moment, even if this computer is off."),
      msg, h("div", { class: "toolbar" }, close, save));
    close.addEventListener("click", () => { dialog.close(); dialog.remove(); });
    save.addEventListener("click", async () => {
      try {
        const when = new Date(fDate.value);
        const saved = await api.setPostDetails(post.id, {
          slug: fSlug.value, tags: fTags.value.split(","), date: isNaN(when.getTime()) ? undefined : when.toISOString(),
        });
        if (current?.id === saved.id) { current = { ...current, slug: saved.slug, tags: saved.tags, date: saved.date }; showPostActions(); }
        fSlug.value = saved.slug;
        showLink(saved.slug);
        msg.textContent = new Date(saved.date) > new Date()
          ? `Saved. Scheduled for ${new Date(saved.date).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" })}: publish to send it.`
          : "Saved. Readers see the changes after you publish.";
        await refreshList();
      } catch (e) { msg.textContent = asUiError(e).message; }
    });
    document.body.append(dialog);
    dialog.showModal();
  }

  /**
   * Removes another of the writer's computers, in a dialog of its own. "No longer used"
   * keeps what it published; "lost or stolen" makes nothing it signed count any more, even
   * what whoever has it dates in the past, except its publishes up to the one the writer
   * says was their last (this computer signs those again). Both need the passphrase.
   */
  async function removeComputer(fingerprint: string, name: string, lost: boolean, done: (d: IdentityDetails) => void) {
    const pass = h("input", { id: "remove-device-pass", type: "password", autocomplete: "current-password" });
    const err = errorLine();
    const cancel = h("button", { id: "remove-device-cancel", type: "button" }, "Cancel");
    const confirm = h("button", { id: "remove-device-confirm", type: "submit", class: "primary" }, lost ? "Remove for good" : "Remove");
    const form = h("form", { method: "dialog" });
    form.append(h("h2", {}, lost ? `${name} was lost or stolen` : `${name} is no longer used`));
    let choice: HTMLDivElement | null = null;
    if (lost) {
      form.append(h("p", {}, "Whoever has it could publish in your name. Once you remove it, nothing it signed counts, even posts it dates in the past. Your spokes learn this when they next hear from you."));
      const when = (t: number) => new Date(t * 1000).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
      let publishes: DevicePublish[] = [];
      try { publishes = await api.devicePublishes(fingerprint); } catch (e) { err.textContent = asUiError(e).message; }
      const option = (value: string, label: string, note: string) => h("label", { class: "choice" },
        h("input", { type: "radio", name: "keep", value }), h("span", {}, label, h("span", { class: "muted small" }, note)));
      const question = h("p", { id: "keep-question" }, "Which was the last thing you published from it yourself? It stays; anything after it goes.");
      choice = h("div", { id: "keep-choice", role: "radiogroup", "aria-labelledby": "keep-question" },
        ...publishes.slice().reverse().map((p) => option(String(p.index), p.titles.length ? p.titles.join(", ") : "Blog settings", ` · ${when(p.signed_at)}`)),
        option("none", publishes.length ? "None of these" : "It published nothing", ""));
      choice.addEventListener("change", () => { err.textContent = ""; });
      form.append(question, choice);
    } else {
      form.append(h("p", {}, "What it published stays. Choose this only for a computer nobody else has, such as one you wiped or that broke. If it may be in someone else's hands, choose \"Lost or stolen\" instead."));
    }
    form.append(field("Your passphrase", pass), err, h("div", { class: "toolbar" }, cancel, confirm));
    const dialog = h("dialog", { id: "remove-device-dialog" }, form);
    document.body.append(dialog);
    const close = () => { dialog.close(); dialog.remove(); };
    cancel.addEventListener("click", close);
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      err.textContent = "";
      const picked = choice?.querySelector<HTMLInputElement>("input:checked")?.value;
      if (lost && !picked) { err.textContent = "Choose the last thing you published from it, or \"None of these\"."; return; }
      confirm.disabled = true;
      confirm.textContent = "Removing and telling your spokes…";
      try {
        done(await api.removeDevice(fingerprint, pass.value, lost, picked && picked !== "none" ? Number(picked) : null));
        close();
      } catch (e) {
        err.textContent = asUiError(e).message;
        confirm.disabled = false;
        confirm.textContent = lost ? "Remove for good" : "Remove";
        pass.select();
      }
    });
    dialog.showModal();
    (choice?.querySelector("input") ?? pass).focus();
  }

  /** Settings: the blog, the identity and its computers, the spokes, and copies to keep. */
  async function settings() {
    const [st, id, firstStatus] = await Promise.all([api.getSettings(), api.identityDetails(), api.publishStatus()]);
    let pub = firstStatus;
    const input = (idName: string, value: string, placeholder = "") => h("input", { id: idName, value, placeholder });
    const fTitle = input("set-title", st.title), fDesc = input("set-description", st.description, "One or two sentences under the title");
    const fLang = input("set-language", st.language, "en"), fHandle = input("set-handle", st.handle, "@ada");
    const msg = h("p", { id: "settings-msg", class: "muted", role: "status" });
    const save = h("button", { id: "settings-save", type: "button", class: "primary" }, "Save");
    const day = (t: number) => new Date(t * 1000).toLocaleDateString(undefined, { dateStyle: "medium" });
    const devices = h("ul", { id: "devices", class: "plain" });
    const showDevices = (details: IdentityDetails) => devices.replaceChildren(...details.devices.map((d) => {
      const name = d.name ?? (d.primary ? "Main key" : "Unnamed computer");
      const li = h("li", { "data-fingerprint": d.fingerprint }, name,
        d.fingerprint === details.this_device ? " (this computer)" : "",
        h("span", { class: "muted" }, d.revoked_at ? ` · ${d.lost ? "lost or stolen, removed" : "removed"} ${day(d.revoked_at)}` : ` · added ${day(d.created_at)}`));
      if (!d.revoked_at && !d.primary && d.fingerprint !== details.this_device) {
        const retire = h("button", { type: "button", class: "retire-device" }, "No longer used…");
        const lost = h("button", { type: "button", class: "lost-device" }, "Lost or stolen…");
        // Removing a computer tells the spokes at once: their lines below say how that went.
        const removed = (next: IdentityDetails) => {
          showDevices(next);
          api.publishStatus().then((p) => { pub = p; showSpokes(o); }).catch(() => {});
        };
        retire.addEventListener("click", () => removeComputer(d.fingerprint, name, false, removed));
        lost.addEventListener("click", () => removeComputer(d.fingerprint, name, true, removed));
        li.append(" ", retire, " ", lost);
      }
      return li;
    }));
    showDevices(id);
    const spokeList = h("ul", { id: "spoke-list", class: "plain" });
    const showSpokes = (ov: Overview) => {
      spokeList.replaceChildren(...ov.spokes.map((sp) => {
        const s = pub.spokes.find((x) => x.endpoint === sp.endpoint);
        const when = (t: string) => new Date(t).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
        const health = !s?.last_attempt ? "not tried yet" : s.up_to_date ? "has everything you published" : s.last_error ? `not yet: ${s.last_error.message}` : "not yet";
        const last = s?.last_success ? ` (last reached ${when(s.last_success)})` : "";
        const remove = h("button", { type: "button", class: "remove-spoke", "data-endpoint": sp.endpoint }, "Remove");
        const url = sp.web ? `${sp.web}/b/${ov.blog_id}/` : null;
        const openBtn = h("button", { type: "button", class: "open-spoke", "data-endpoint": sp.endpoint, title: url ?? "" }, "Open in browser");
        openBtn.hidden = !url;
        if (url) openBtn.dataset.url = url;
        openBtn.addEventListener("click", () => { if (url) api.openInBrowser(url).catch((e) => { msg.textContent = asUiError(e).message; }); });
        remove.addEventListener("click", async () => {
          try { const o2 = await api.removeSpoke(sp.endpoint); showLink(o2); showSpokes(o2); o = { ...o, spokes: o2.spokes }; await refreshStatus(); }
          catch (e) { msg.textContent = asUiError(e).message; }
        });
        return h("li", {}, h("strong", {}, sp.name ?? "A spoke"), h("span", { class: "muted" }, ` · ${health}${last} `), openBtn, remove);
      }));
      if (!ov.spokes.length) spokeList.append(h("li", { class: "muted" }, "No spokes yet: your blog is on this computer only."));
    };
    showSpokes(o);
    const keep = h("p", { id: "keep-msg", class: "muted", role: "status" });
    const recoveryBtn = h("button", { id: "save-recovery", type: "button" }, "Save the recovery file again");
    const exportBtn = h("button", { id: "export", type: "button" }, "Export everything");
    // Both ask where, in the desktop's own save dialog, starting in the Documents folder.
    recoveryBtn.addEventListener("click", async () => {
      try {
        const path = await saveRecoveryAs();
        if (path) keep.textContent = `Saved the recovery file to ${path}`;
      } catch (e) { keep.textContent = asUiError(e).message; }
    });
    exportBtn.addEventListener("click", async () => {
      try {
        const path = await saveDialog({ title: "Export your blog", defaultPath: (await api.suggestedPaths()).export, filters: [{ name: "Spokes export", extensions: ["tar.gz"] }] });
        if (!path) return;
        keep.textContent = "Exporting…";
        keep.textContent = `Exported your blog, its history and signatures to ${await api.exportArchive(path)}`;
      } catch (e) { keep.textContent = asUiError(e).message; }
    });
    const close = h("button", { id: "settings-close", type: "button" }, "Close");
    const dialog = h("dialog", { id: "settings-dialog", class: "wide" },
      h("div", { class: "dialog-head" }, h("h2", {}, "Settings"), close),
      h("h3", {}, "Your blog"),
      field("Title", fTitle), field("Description", fDesc), field("Language", fLang), field("Handle", fHandle),
      h("div", { class: "toolbar" }, msg, save),
      h("h3", {}, "You"),
      h("p", {}, `${id.name} · `, h("code", { id: "settings-fingerprint" }, id.fingerprint)),
      h("p", { class: "muted" }, "Computers that sign for you:"), devices,
      h("h3", {}, "Spokes"), spokeList,
      h("h3", {}, "Copies to keep"), h("div", { class: "toolbar" }, recoveryBtn, exportBtn), keep);
    save.addEventListener("click", async () => {
      const next: BlogSettings = { title: fTitle.value.trim(), description: fDesc.value.trim(), language: fLang.value.trim() || "en", handle: fHandle.value.trim() };
      try {
        await api.saveSettings(next);
        msg.textContent = "Saved. Readers see it after your next publish.";
        const heading = document.querySelector(".sidebar h2");
        if (heading) heading.textContent = next.title;
      } catch (e) { msg.textContent = asUiError(e).message; }
    });
    close.addEventListener("click", () => { dialog.close(); dialog.remove(); });
    document.body.append(dialog);
    dialog.showModal();
    fTitle.focus();
  }

  async function newPost() {
    await saver.flush();
    const p = await api.newPost();
    await refreshList();
    await open(p.id);
    if (!typing() || document.activeElement === body.contentDOM) title.select();
  }

  async function publish() {
    if (!current) return;
    err.textContent = "";
    await saver.flush();
    if (!o.unlocked) {
      if (!(await askPassphrase(o))) return;
      o = { ...o, unlocked: true };
    }
    publishBtn.disabled = true;
    status.textContent = "Publishing…";
    try {
      const s = await api.publish(current.id);
      showSummary(s);
      const failed = s.spokes.filter((x) => !x.up_to_date && x.last_error);
      // Offline is said once, calmly, by the badge; other failures are explained here.
      if (failed.length && offlineBadge.hidden) err.textContent = failed.map((f) => `${f.name ?? "A spoke"}: ${f.last_error!.message}`).join(" ");
    } catch (e) {
      err.textContent = asUiError(e).message;
      status.textContent = "Not published";
    } finally {
      publishBtn.disabled = false;
      await refreshList();
    }
  }

  title.addEventListener("input", () => {
    saver.touch();
    renderPreview();
    const item = list.querySelector("li.active .post-title");
    if (item) item.textContent = title.value || "Untitled";
    const mine = summaries.find((x) => x.post.id === current?.id);
    if (mine) mine.post.title = title.value; // so that searching finds it before the next reload
  });
  // A typed character reaches the preview as it is typed (a letter in a plain paragraph is
  // shown at once, see blocks.ts); when the edit itself arrives its text is the same, so
  // nothing is rendered twice.
  onBodyForetold = (text) => renderPreview(text);
  onBodyEdit = (splices, text) => { edits.record(splices, text); saver.touch(); renderPreview(text); updateCount(); };
  publishBtn.addEventListener("click", () => void publish());
  historyBtn.addEventListener("click", () => void history());
  detailsBtn.addEventListener("click", () => void details());
  search.addEventListener("input", renderList);
  filter.addEventListener("change", renderList);
  unpublishBtn.addEventListener("click", async () => {
    if (!current) return;
    err.textContent = "";
    if (!o.unlocked) {
      if (!(await askPassphrase(o))) return;
      o = { ...o, unlocked: true };
    }
    status.textContent = "Unpublishing…";
    try {
      showSummary(await api.unpublish(current.id));
      notice.replaceChildren(`“${current.title || "Untitled"}” is off your spokes. Its history keeps every published version; publish it to bring it back.`);
    } catch (e) { err.textContent = asUiError(e).message; }
    await refreshList();
  });
  let undoTimer: ReturnType<typeof setTimeout> | null = null;
  deleteBtn.addEventListener("click", async () => {
    if (!current) return;
    const gone = current;
    err.textContent = "";
    try {
      await saver.flush();
      await api.deletePost(gone.id);
    } catch (e) { err.textContent = asUiError(e).message; return; }
    const undo = h("button", { id: "undo-delete", type: "button" }, "Undo");
    notice.replaceChildren(`Moved “${gone.title || "Untitled"}” to the bin. `, undo);
    if (undoTimer) clearTimeout(undoTimer);
    undoTimer = setTimeout(() => notice.replaceChildren(), 15000);
    undo.addEventListener("click", async () => {
      await api.undoDelete(gone.id);
      notice.replaceChildren();
      await refreshList();
      await open(gone.id);
    });
    current = null;
    holdEditor();
    const rest = await refreshList();
    if (rest.length) await open(rest[0].post.id); else await newPost();
  });
  newBtn.addEventListener("click", () => void newPost());
  addSpoke.addEventListener("click", async () => {
    spokeMsg.textContent = "";
    try {
      const ov = await api.addSpoke(ticket.value);
      ticket.value = "";
      spokeMsg.textContent = "Spoke added. Publish to send your blog there.";
      showLink(ov);
      await refreshStatus();
    } catch (e) { spokeMsg.textContent = asUiError(e).message; }
  });
  document.addEventListener("keydown", (ev) => {
    if (!(ev.ctrlKey || ev.metaKey)) return;
    if (ev.key === "s") { ev.preventDefault(); void saver.flush(); }
    if (ev.key === "Enter") { ev.preventDefault(); void publish(); }
    if (ev.key === "n") { ev.preventDefault(); void newPost(); }
    const k = ev.key.toLowerCase();
    if (document.activeElement === body.contentDOM) {
      const shortcut: Record<string, string> = ev.shiftKey ? { h: "fmt-heading", q: "fmt-quote", l: "fmt-list" } : { b: "fmt-bold", i: "fmt-italic", k: "fmt-link", e: "fmt-code" };
      const id = shortcut[k];
      const f = FORMATS.find((x) => x[0] === id);
      if (f) { ev.preventDefault(); applyEdit(f[3]); return; }
    }
    if (ev.shiftKey && k === "f") { ev.preventDefault(); root.classList.toggle("focus"); return; }
    if (ev.shiftKey && k === "i") { ev.preventDefault(); imageInput.click(); return; }
    if (ev.key === "h") { ev.preventDefault(); void history(); }
    if (ev.key === "d") { ev.preventDefault(); void details(); }
    if (ev.key === ",") { ev.preventDefault(); void settings(); }
  });
  window.addEventListener("beforeunload", () => void saver.flush());
  // The menu bar's items (see app_menu in src-tauri/src/lib.rs).
  void listen<string>("menu", (ev) => {
    const actions: Record<string, () => void> = {
      "new-post": () => void newPost(), publish: () => void publish(), details: () => void details(),
      history: () => void history(), picture: () => imageInput.click(), focus: () => root.classList.toggle("focus"),
      theme: () => themeBtn.click(), settings: () => void settings(),
      export: () => void settings().then(() => document.getElementById("export")?.click()),
      recovery: () => void settings().then(() => document.getElementById("save-recovery")?.click()),
    };
    actions[ev.payload]?.();
  }).catch(() => { /* no menu bar (tests of the page alone) */ });

  await Promise.all([quickly(newestPost), quickly(listed)]);
  root.replaceChildren(h("div", { class: "layout" },
    h("aside", { class: "sidebar" },
      h("h2", {}, o.blog_title), newBtn, search, filter, list,
      h("div", { class: "spokes" }, h("h3", {}, "Spokes"), ticket, addSpoke, spokeMsg, blogLink),
      h("p", { class: "muted small" }, `Signed as ${o.name} · ${o.fingerprint}`), h("div", { class: "toolbar" }, settingsBtn, themeBtn)),
    h("section", { class: "editor" },
      h("div", { class: "toolbar" }, saveState, offlineBadge, status, detailsBtn, historyBtn, unpublishBtn, deleteBtn, publishBtn),
      err, notice, title, formatBar, bodyBox),
    preview));
  showLink(o);
  // The local spoke starts in the background; show its address once it is up.
  if (!o.local_blog_url && o.spokes.length === 0) setTimeout(async () => showLink(await api.overview()), 800);
  mark("screen");
  requestAnimationFrame(() => setTimeout(() => mark("screen-painted"), 0)); // the first frame of this screen, drawn
  // Already here unless the blog is still loading: then the writer sees the screen at once
  // and the post as soon as it comes.
  const newest = await newestPost;
  if (newest) show(newest);
  mark("post-open");
  summaries = await listed;
  mark("list-fetched");
  renderList();
  showPostActions();
  mark("list-shown");
  if (!newest) await newPost();
  mark("ready");
  root.dataset.ready = "true";
  // Reported once the screen with the post is drawn: what the writer sees, not only what the
  // page has built.
  requestAnimationFrame(() => setTimeout(() => {
    mark("ready-painted");
    void api.screenReady(startTimings).catch(() => { /* diagnostics only */ });
  }, 0));
  void refreshStatus(); // needs the whole blog loaded; the writer can type meanwhile // the writing screen is loaded (end-to-end tests wait for this)
}

void start();
