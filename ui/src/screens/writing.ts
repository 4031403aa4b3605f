// The writing screen: the post list, the editor with its preview, publishing, and the
// dialogs it opens (in ../dialogs).
import { api, asUiError, type Overview, type Post, type PostSummary, type PublishSummary, type SpokeStatus } from "../api";
import { Autosaver } from "../autosave";
import { SpliceTracker, type Splice } from "../splices";
import { MarkdownEditor } from "../editor";
import { BlockPreview } from "../blocks";
import { listen } from "@tauri-apps/api/event";
import { convertFileSrc } from "@tauri-apps/api/core";
import { code, link, prefixLines, unpublishedNotice, wordCountLine, wrap, type Edit } from "../format";
import { applyTheme, errorLine, h, mark, openTimings, root, saveWords, savedTheme, startTimings, themeWords, typing, type Theme } from "../dom";
import { longDate, problemText, t } from "../i18n";
import { askPassphrase } from "../dialogs/passphrase";
import { showDetails } from "../dialogs/details";
import { showHistory } from "../dialogs/history";
import { showSettings } from "../dialogs/settings";
import { lookAtStart } from "../dialogs/updates";
import { offerInvite } from "../dialogs/invite";
import { showImport } from "../dialogs/import";
import { showGuide } from "../dialogs/guide";
import type { Screen } from "./screen";
import { RowList } from "../rowlist";

/**
 * Where the blog stands with its spokes, in a sentence: "Published to 2 of 2 spokes" once a
 * publish reached one, "Not published yet" before, and what to do with no spoke at all.
 */
export function summarySentence(s: PublishSummary): string {
  if (s.total === 0) return t("status-no-spokes");
  if (!s.spokes.some((x) => x.last_success)) return t("status-not-yet");
  return t("status-published", { up: s.up_to_date, total: s.total });
}

export async function writingScreen(o: Overview) {
  // The newest post and the list are asked for first, while the screen is built: when they
  // come quickly (every start with a post-list snapshot), the screen is drawn once, with the
  // post in it. Each frame of this screen costs the web view a few hundred milliseconds on a
  // small machine, so drawing it empty first would make the writer wait for two.
  const listed = api.listPosts();
  const newestPost = api.newestPost();
  const quickly = <T,>(p: Promise<T>) => Promise.race([p.then(() => true, () => true), new Promise<boolean>((r) => setTimeout(() => r(false), 300))]);
  let current: Post | null = null;
  // Only the rows in view are drawn (rowlist.ts): opening a post costs the same with 10 posts
  // or 10,000. Arrow keys move through it while it has the focus.
  // A listbox (WAI-ARIA): one tab stop, the arrow keys move through the posts and open them,
  // Enter goes on to the text; the open post is the selected option.
  const list = h("div", { class: "post-list", id: "post-list", tabindex: "0", role: "listbox", "aria-label": t("posts-label") });
  const title = h("input", { id: "title", class: "title", placeholder: t("title-placeholder"), "aria-label": t("title-placeholder") });
  // The editor (CodeMirror 6); its edits go to Rust as the splices CodeMirror reports.
  const bodyBox = h("div", { class: "body" });
  let onBodyEdit: (splices: Splice[], text: string) => void = () => {};
  let onBodyForetold: (text: string) => void = () => {};
  const body = new MarkdownEditor(bodyBox, (splices, text) => onBodyEdit(splices, text), {
    imageBase: convertFileSrc("", "spokes-image"),
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
  const preview = h("article", { id: "preview", class: "preview", "aria-label": t("preview-label") });
  const saveState = h("span", { id: "save-state", class: "muted" }, saveWords("saved"));
  // No post is open until the first one comes: typing is held until then, so nothing typed
  // into an empty editor is lost when the post replaces it (after a crash, a large blog can
  // take seconds to load).
  holdEditor();
  // Where the blog as a whole stands with its spokes (the sidebar, under Spokes), and what
  // the open post is (under its title): a draft beside "Published to 2 of 2 spokes" misled.
  const status = h("p", { id: "status", class: "status", role: "status" }, "");
  const postStatus = h("p", { id: "post-status", class: "post-status muted" }, "");
  let lastSummary: PublishSummary | null = null;
  /** The blog has changes a publish would sign besides the posts' (settings, spokes, …). */
  let blogChanged = true;
  const offlineBadge = h("span", { id: "offline", class: "offline", title: t("offline-tip") }, t("offline"));
  offlineBadge.hidden = true;
  const publishBtn = h("button", { id: "publish", class: "primary", title: t("publish-tip") }, t("publish"));
  const historyBtn = h("button", { id: "history", title: t("history-tip") }, t("history"));
  const detailsBtn = h("button", { id: "details", title: t("details-tip") }, t("details"));
  const unpublishBtn = h("button", { id: "unpublish", title: t("unpublish-tip") }, t("unpublish"));
  const deleteBtn = h("button", { id: "delete", title: t("delete-tip") }, t("delete"));
  const search = h("input", { id: "search", type: "search", placeholder: t("search-placeholder"), "aria-label": t("search-label") });
  const filter = h("select", { id: "filter", "aria-label": t("filter-label") },
    h("option", { value: "all" }, t("filter-all")), h("option", { value: "drafts" }, t("filter-drafts")),
    h("option", { value: "published" }, t("filter-published")), h("option", { value: "changed" }, t("filter-changed")));
  const notice = h("p", { id: "notice", class: "notice", role: "status" });
  const wordCount = h("span", { id: "word-count", class: "muted" });
  const focusBtn = h("button", { id: "focus", type: "button", title: t("focus-tip") }, t("focus"));
  // One column by default, the text as it will read; the rendered page beside it is a choice
  // (kept on this computer).
  const previewBtn = h("button", { id: "toggle-preview", type: "button", title: t("preview-tip"), "aria-pressed": "false" }, t("preview-label"));
  const showPreview = (on: boolean) => {
    root.classList.toggle("no-preview", !on);
    previewBtn.setAttribute("aria-pressed", String(on));
    localStorage.setItem("preview", on ? "on" : "off");
  };
  showPreview(localStorage.getItem("preview") === "on");
  previewBtn.addEventListener("click", () => showPreview(root.classList.contains("no-preview")));

  // Formatting: each applies one edit to the text, which then goes the way typing goes.
  const applyEdit = (f: (t: string, a: number, b: number) => Edit) => {
    const e = f(body.value, body.selectionStart, body.selectionEnd);
    body.edit(e.text, e.start, e.end);
    body.focus();
  };
  const FORMATS: [string, string, string, (t: string, a: number, b: number) => Edit][] = [
    ["fmt-bold", t("fmt-bold"), t("fmt-bold-tip"), (x, a, b) => wrap(x, a, b, "**")],
    ["fmt-italic", t("fmt-italic"), t("fmt-italic-tip"), (x, a, b) => wrap(x, a, b, "_")],
    ["fmt-heading", t("fmt-heading"), t("fmt-heading-tip"), (x, a, b) => prefixLines(x, a, b, "## ")],
    ["fmt-link", t("fmt-link"), t("fmt-link-tip"), link],
    ["fmt-quote", "“ ”", t("fmt-quote-tip"), (x, a, b) => prefixLines(x, a, b, "> ")],
    ["fmt-list", t("fmt-list"), t("fmt-list-tip"), (x, a, b) => prefixLines(x, a, b, "- ")],
    ["fmt-code", t("fmt-code"), t("fmt-code-tip"), code],
  ];
  // Pictures: pasted, dropped, or picked with the Image button; each is kept with the blog
  // (by its hash) and its Markdown goes in at the caret like any other edit.
  const imageInput = h("input", { id: "image-file", type: "file", accept: "image/png,image/jpeg,image/gif,image/webp,image/avif", multiple: "", hidden: "" });
  const imageBtn = h("button", { id: "fmt-image", type: "button", title: t("fmt-image-tip"), "aria-label": t("fmt-image-tip") }, t("fmt-image"));
  imageBtn.addEventListener("mousedown", (ev) => ev.preventDefault());
  imageBtn.addEventListener("click", () => imageInput.click());
  const addImages = async (files: File[]) => {
    const pictures = files.filter((f) => f.type.startsWith("image/"));
    if (!pictures.length || !current) return;
    notice.textContent = t("adding-pictures", { n: pictures.length });
    try {
      for (const f of pictures) {
        const alt = f.name.replace(/\.[a-z0-9]+$/i, "").replace(/[-_]+/g, " ");
        const md = await api.addImage(new Uint8Array(await f.arrayBuffer()), alt);
        applyEdit((x, a, b) => {
          const before = a > 0 && x[a - 1] !== "\n" ? "\n\n" : "";
          const ins = `${before}${md}\n`;
          return { text: x.slice(0, a) + ins + x.slice(b), start: a + ins.length, end: a + ins.length };
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
  const formatBar = h("div", { id: "format-bar", class: "format-bar", role: "toolbar", "aria-label": t("format-bar-label") },
    ...FORMATS.map(([id, label, tip, f]) => {
      const b = h("button", { id, type: "button", title: tip, "aria-label": tip }, label);
      b.addEventListener("mousedown", (ev) => ev.preventDefault()); // keep the selection in the text
      b.addEventListener("click", () => applyEdit(f));
      return b;
    }), imageBtn, imageInput, h("span", { class: "spacer" }), wordCount, previewBtn, focusBtn);
  let countTimer: ReturnType<typeof setTimeout> | null = null;
  const updateCount = () => {
    if (countTimer) clearTimeout(countTimer);
    countTimer = setTimeout(() => { wordCount.textContent = wordCountLine(body.value); }, 250);
  };
  focusBtn.addEventListener("click", () => root.classList.toggle("focus"));
  const themeBtn = h("button", { id: "theme", class: "theme", type: "button" }, themeWords(savedTheme()));
  const settingsBtn = h("button", { id: "settings", class: "theme", type: "button", title: t("settings-tip") }, t("settings"));
  settingsBtn.addEventListener("click", () => void settings());
  themeBtn.addEventListener("click", () => {
    const next: Theme = { auto: "light", light: "dark", dark: "auto" }[savedTheme()] as Theme;
    localStorage.setItem("theme", next);
    applyTheme(next);
    themeBtn.textContent = themeWords(next);
  });
  const newBtn = h("button", { id: "new-post", title: t("new-post-tip") }, t("new-post"));
  // Adding a spoke is done in Settings (the invitation pasted there) or from a clicked link.
  const addSpokeOpen = h("button", { id: "add-spoke-open", type: "button", class: "link" }, t("add-spoke-open"));
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
    const badge = list.querySelector<HTMLElement>("li.active .badge");
    if (badge && (badge.dataset.state === "published" || badge.dataset.state === "scheduled")) { badge.dataset.state = "changed"; badge.textContent = t("state-changed"); }
    const mine = summaries.find((x) => x.post.id === current?.id);
    if (mine) mine.changed_since_published = true; // drawn again when it scrolls back into view
  }, (s) => { if (body.editable) saveState.textContent = saveWords(s); }, 1000);

  // The preview follows every keystroke, re-rendering only the blocks that changed.
  const blockPreview = new BlockPreview(preview, (blocks) => api.previewBlocks(blocks));
  (window as unknown as { spokesPreview: BlockPreview }).spokesPreview = blockPreview; // for the benchmark
  const renderPreview = (text: string = body.value) => { void blockPreview.update(`# ${title.value}\n\n${text}`); };


  function showLink(ov: Overview) {
    blogLink.textContent = "";
    if (ov.spokes.length === 0 && ov.local_blog_url) {
      // The app's own spoke serves the blog to this computer alone: say so before the address.
      blogLink.append(`${t("local-only")} `,
        h("a", { href: ov.local_blog_url, id: "local-blog-url", target: "_blank" }, t("local-see")));
    } else if (ov.spokes.length > 0) {
      blogLink.textContent = t("hosted-by", { n: ov.spokes.length });
    }
  }

  let summaries: PostSummary[] = [];
  /** The post being opened was chosen with the arrow keys in the list. */
  let listKeys = false;
  /** The posts the search and the filter let through, in list order. */
  let shown: PostSummary[] = [];
  const rows = new RowList<PostSummary>(list, (s, i) => {
    const label = s.post.title || t("untitled");
    const active = current?.id === s.post.id;
    const li = h("li", { "data-id": s.post.id, "data-index": String(i), class: active ? "active" : "", title: label, id: `post-row-${s.post.id}`,
      role: "option", "aria-selected": String(active), "aria-posinset": String(i + 1), "aria-setsize": String(shown.length) },
      h("span", { class: "post-title" }, label), h("span", { class: "badge", "data-state": stateOf(s) }, t(`state-${stateOf(s)}`)));
    li.addEventListener("click", () => void open(s.post.id));
    return li;
  });
  (window as unknown as { spokesPostList: RowList<PostSummary> }).spokesPostList = rows; // for the benchmark
  // A published post dated later is "Scheduled": readers see it from its date.
  const stateOf = (s: PostSummary) =>
    !s.published ? (s.post.state === "unpublished" ? "unpublished" : "draft") : s.changed_since_published ? "changed"
      : Date.parse(s.post.date) > Date.now() ? "scheduled" : "published";
  /** Shows the posts that match the search words and the filter. */
  function renderList() {
    const words = search.value.toLowerCase().split(/\s+/).filter(Boolean);
    const wanted = filter.value;
    shown = summaries.filter((s) => {
      const label = stateOf(s);
      const kind = label === "published" || label === "scheduled" ? "published" : label === "changed" ? "changed" : "drafts";
      const text = `${s.post.title} ${s.post.tags.join(" ")}`.toLowerCase();
      return (wanted === "all" || wanted === kind) && words.every((w) => text.includes(w));
    });
    rows.set(shown, h("li", { class: "muted empty", role: "option", "aria-disabled": "true", "aria-selected": "false" }, t(summaries.length ? "list-no-match" : "list-empty")));
    markActive();
  }
  async function refreshList() {
    summaries = await api.listPosts();
    renderList();
    showPostActions();
    return summaries;
  }
  /** Points the listbox at the open post's row while it is drawn (rows out of view are not). */
  function markActive() {
    const row = current && document.getElementById(`post-row-${current.id}`);
    if (row && list.contains(row)) list.setAttribute("aria-activedescendant", row.id); else list.removeAttribute("aria-activedescendant");
  }
  /** The open post's state in plain words, with how far its publish went. */
  function showPostStatus() {
    const s = summaries.find((x) => x.post.id === current?.id);
    if (!current || !s) { postStatus.textContent = ""; return; }
    const total = lastSummary?.total ?? 0, up = lastSummary?.up_to_date ?? 0;
    // Only the spoke built into the app: published here, but no reader can reach it yet.
    const reach = total === 0 ? "" : o.spokes.length === 0 ? t("reach-local") : up === total ? t("reach-all", { total }) : t("reach-some", { up, total });
    const state = stateOf(s);
    const words = state === "scheduled" ? t("post-status-scheduled", { day: longDate(s.post.date) })
      : state === "published" ? t("state-published") : t(`post-status-${state}`);
    postStatus.textContent = state === "scheduled" || state === "published" ? [words, reach].filter(Boolean).join(" · ") : words;
  }
  /** Unpublish for a published post, Delete for the others (a published post is unpublished first). */
  function showPostActions() {
    showPostStatus();
    const s = summaries.find((x) => x.post.id === current?.id);
    unpublishBtn.hidden = !s?.published;
    deleteBtn.hidden = !!s?.published;
    // A post dated later is scheduled: publishing sends it now, spokes show it then.
    const later = !!current && new Date(current.date) > new Date();
    // Nothing new: this version is signed and on every spoke, and the blog has no other change
    // waiting. Publish rests until something changes.
    const idle = nothingToPublish();
    publishBtn.disabled = idle;
    publishBtn.textContent = idle ? t(later ? "state-scheduled" : "state-published") : later ? t("schedule") : t("publish");
    publishBtn.title = idle ? t("publish-nothing-new") : later ? t("schedule-tip") : t("publish-tip");
  }
  /** Whether the open post is published as it stands, every spoke has it and nothing else waits. */
  function nothingToPublish(): boolean {
    const s = summaries.find((x) => x.post.id === current?.id);
    const everywhere = !!lastSummary && lastSummary.up_to_date === lastSummary.total;
    return !!s && s.published && !s.changed_since_published && !blogChanged && everywhere;
  }
  /** The open post, once typed in, has something new to publish. */
  function markChanged() {
    const s = summaries.find((x) => x.post.id === current?.id);
    if (s?.published && !s.changed_since_published) { s.changed_since_published = true; showPostActions(); }
  }

  // While some spokes miss the newest revision, Rust retries them in the background; the
  // status line follows until all have it.
  let polling: ReturnType<typeof setInterval> | null = null;
  function showSummary(s: PublishSummary) {
    lastSummary = s;
    showPostStatus();
    const behind = s.total > 0 && s.up_to_date < s.total && s.spokes.some((x) => x.last_attempt);
    // No spoke answered at all: say so plainly, the writing itself is safe here.
    const unreachable = (x: SpokeStatus) => !x.up_to_date && ["connection", "timeout"].includes(x.last_error?.code ?? "unknown");
    const offline = s.total > 0 && s.spokes.every(unreachable);
    offlineBadge.hidden = !offline;
    const sentence = summarySentence(s);
    status.textContent = offline ? `${sentence} · ${t("status-will-send")}` : behind ? `${sentence} · ${t("status-trying-others")}` : sentence;
    status.classList.toggle("behind", behind);
    if (behind && !polling) polling = setInterval(() => void refreshStatus(), 3000);
    if (!behind && polling) { clearInterval(polling); polling = null; err.textContent = ""; }
  }
  async function refreshStatus() {
    try {
      const [s, changed] = await Promise.all([api.publishStatus(), api.unsignedChanges()]);
      blogChanged = changed;
      showSummary(s);
      showPostActions();
    } catch { /* shown on publish */ }
  }

  async function open(id: string) {
    const t0 = performance.now();
    await saver.flush();
    const t1 = performance.now();
    const post = await api.getPost(id);
    const t2 = performance.now();
    show(post);
    Object.assign(openTimings, { flush_ms: t1 - t0, fetch_ms: t2 - t1, show_ms: performance.now() - t2 });
  }

  /** Holds typing while no post is open ([`show`] lets go), and says why. */
  function holdEditor() {
    body.editable = false;
    title.disabled = true;
    saveState.textContent = t("opening");
  }

  /** Puts `post` in the editor. */
  function show(post: Post) {
    const id = post.id;
    current = post;
    if (!body.editable) {
      body.editable = true;
      title.disabled = false;
      saveState.textContent = saveWords("saved");
    }
    title.value = current.title;
    body.value = current.body;
    edits.reset(current.body);
    wordCount.textContent = wordCountLine(current.body);
    blockPreview.reset();
    renderPreview();
    for (const li of Array.from(rows.rows.children)) {
      li.classList.toggle("active", (li as HTMLElement).dataset.id === id);
      if (li.getAttribute("role") === "option") li.setAttribute("aria-selected", String((li as HTMLElement).dataset.id === id));
    }
    rows.reveal(shown.findIndex((s) => s.post.id === id));
    markActive();
    showPostActions();
    // Moving through the list with the arrow keys keeps the focus there; a click goes on to write.
    if (!typing() && !listKeys) body.focus();
    listKeys = false;
  }

  const screen: Screen = {
    get current() { return current; },
    set current(p: Post | null) { current = p; },
    get overview() { return o; },
    set overview(v: Overview) { o = v; },
    flush: () => saver.flush(),
    text: () => body.value,
    open, refreshList, refreshStatus, showPostActions, showLink, spokeAdded, spellIn, err, status,
  };
  /**
   * The text is in the blog's language (`language`, from its settings): said to the web view,
   * which checks its spelling with that language's dictionary; the dictionaries it took are
   * kept on `<body data-spelling>` and returned (none installed: nothing is underlined, and
   * Settings says so).
   */
  async function spellIn(language: string): Promise<string[]> {
    body.contentDOM.lang = language;
    const taken = await api.setSpelling(language).catch(() => [] as string[]);
    document.body.dataset.spelling = taken.join(" ");
    return taken;
  }
  const history = () => showHistory(screen);
  const details = () => showDetails(screen);
  const settings = (at: "updates" | "spokes" | null = null) => showSettings(screen, at);

  async function newPost() {
    // Held at once: keys pressed before the new draft opens would go to the old post's title.
    holdEditor();
    try {
      await saver.flush();
      const p = await api.newPost();
      await refreshList();
      await open(p.id);
    } catch (e) {
      // The post that was open stays open (and editable), and the writer hears why.
      if (current && !body.editable) { body.editable = true; title.disabled = false; saveState.textContent = saveWords(saver.state); }
      err.textContent = asUiError(e).message;
      return;
    }
    if (!typing() || document.activeElement === body.contentDOM) title.select();
  }

  async function publish() {
    if (!current) return;
    err.textContent = "";
    // Ctrl+Enter or the menu on a post with nothing new: said, not sent again.
    if (nothingToPublish()) { status.textContent = t("publish-nothing-new"); return; }
    await saver.flush();
    if (!o.unlocked) {
      if (!(await askPassphrase(o))) return;
      o = { ...o, unlocked: true };
    }
    publishBtn.disabled = true;
    status.textContent = t("publishing");
    try {
      const s = await api.publish(current.id);
      showSummary(s);
      // "Spoke added. Publish to send your blog there." is done with once the blog went.
      if (s.up_to_date > 0) spokeMsg.textContent = "";
      const failed = s.spokes.filter((x) => !x.up_to_date && x.last_error);
      // Offline is said once, calmly, by the badge; other failures are explained here.
      if (failed.length && offlineBadge.hidden) err.textContent = failed.map((f) => `${f.name ?? t("a-spoke")}: ${problemText(f.last_error!.code, f.last_error!.message, f.last_error!.detail)}`).join(" ");
    } catch (e) {
      const u = asUiError(e);
      if (u.code === "locked" && o.unlocked) {
        // The key was put away (a changed passphrase): ask for it, once, and publish.
        o = { ...o, unlocked: false };
        publishBtn.disabled = false;
        status.textContent = "";
        return publish();
      }
      err.textContent = u.message;
      status.textContent = t("not-published");
    } finally {
      publishBtn.disabled = false;
      await refreshList();
      blogChanged = await api.unsignedChanges().catch(() => true);
      showPostActions();
    }
  }

  title.addEventListener("input", () => {
    saver.touch();
    markChanged();
    renderPreview();
    const item = list.querySelector("li.active .post-title");
    if (item) item.textContent = (item.parentElement as HTMLElement).title = title.value || t("untitled");
    const mine = summaries.find((x) => x.post.id === current?.id);
    if (mine) mine.post.title = title.value; // so that searching finds it before the next reload
  });
  // A typed character reaches the preview as it is typed (a letter in a plain paragraph is
  // shown at once, see blocks.ts); when the edit itself arrives its text is the same, so
  // nothing is rendered twice.
  onBodyForetold = (text) => renderPreview(text);
  onBodyEdit = (splices, text) => { edits.record(splices, text); saver.touch(); markChanged(); renderPreview(text); updateCount(); };
  publishBtn.addEventListener("click", () => void publish());
  historyBtn.addEventListener("click", () => void history());
  detailsBtn.addEventListener("click", () => void details());
  search.addEventListener("input", renderList);
  list.addEventListener("keydown", (ev) => {
    const at = shown.findIndex((s) => s.post.id === current?.id);
    if (ev.key === "Enter" && current) { ev.preventDefault(); body.focus(); return; }
    const to = ({ ArrowDown: at + 1, ArrowUp: at - 1, Home: 0, End: shown.length - 1, PageDown: at + 10, PageUp: at - 10 } as Record<string, number>)[ev.key];
    if (to === undefined || !shown.length) return;
    ev.preventDefault();
    listKeys = true;
    void open(shown[Math.max(0, Math.min(shown.length - 1, to))].post.id);
  });
  filter.addEventListener("change", renderList);
  unpublishBtn.addEventListener("click", async () => {
    if (!current) return;
    err.textContent = "";
    if (!o.unlocked) {
      if (!(await askPassphrase(o))) return;
      o = { ...o, unlocked: true };
    }
    status.textContent = t("unpublishing");
    try {
      showSummary(await api.unpublish(current.id));
      // The blog may have moved to one document per post since the screen opened.
      o = { ...o, documents_per_post: (await api.overview()).documents_per_post };
      notice.replaceChildren(unpublishedNotice(current.title, o.documents_per_post));
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
    const undo = h("button", { id: "undo-delete", type: "button" }, t("undo"));
    notice.replaceChildren(`${t("moved-to-bin", { title: gone.title || t("untitled") })} `, undo);
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
  addSpokeOpen.addEventListener("click", () => void settings("spokes"));
  async function spokeAdded(ov: Overview) {
    o = { ...o, spokes: ov.spokes };
    spokeMsg.textContent = t("spoke-added");
    showLink(ov);
    await refreshStatus();
  }
  // An invite link the writer clicked (`spokes:…`): offered, not added until they choose.
  const invited = (ticket: string) => offerInvite(ticket, (ov) => void spokeAdded(ov));
  void listen<string>("invite", (ev) => invited(ev.payload)).catch(() => { /* tests of the page alone */ });
  void api.takeInvite().then((t) => { if (t) invited(t); }).catch(() => { /* tests of the page alone */ });
  document.addEventListener("keydown", (ev) => {
    if (ev.key === "F1") { ev.preventDefault(); void showGuide(); return; } // the desktop's Help key
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
    if (ev.shiftKey && k === "p") { ev.preventDefault(); previewBtn.click(); return; }
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
      preview: () => previewBtn.click(),
      theme: () => themeBtn.click(), settings: () => void settings(), find: () => body.openFind(),
      import: () => showImport(screen), guide: () => void showGuide(),
      export: () => void settings().then(() => document.getElementById("export")?.click()),
      recovery: () => void settings().then(() => document.getElementById("save-recovery")?.click()),
    };
    actions[ev.payload]?.();
  }).catch(() => { /* no menu bar (tests of the page alone) */ });

  // A new version of the app, found by the look at start: one quiet line that opens Settings.
  const updateNotice = h("button", { id: "update-notice", type: "button", class: "link", hidden: "" });
  updateNotice.addEventListener("click", () => void settings("updates"));
  lookAtStart((c) => {
    if (c.state !== "available") return;
    updateNotice.textContent = t("update-notice", { version: c.new_version });
    updateNotice.hidden = false;
  });

  await Promise.all([quickly(newestPost), quickly(listed)]);
  root.replaceChildren(h("div", { class: "layout" },
    h("aside", { class: "sidebar" },
      h("h2", {}, o.blog_title), newBtn, search, filter, list,
      h("div", { class: "spokes" }, h("h3", {}, t("spokes-heading")), blogLink, status, spokeMsg, addSpokeOpen),
      h("p", { id: "signed-as", class: "muted small" }, t("signed-as", { name: o.name })), updateNotice, h("div", { class: "toolbar" }, settingsBtn, themeBtn)),
    h("section", { class: "editor" },
      // Taking a post away (Delete, Unpublish) sits at the far end from Publish.
      h("div", { class: "toolbar" }, deleteBtn, unpublishBtn, saveState, offlineBadge, h("span", { class: "spacer" }), detailsBtn, historyBtn, publishBtn),
      err, notice, title, postStatus, formatBar, bodyBox),
    preview));
  showLink(o);
  // The local spoke starts once this screen is drawn; show its address when it is up.
  if (!o.local_blog_url && o.spokes.length === 0) {
    const waitForLocal = async (tries: number) => {
      const ov = await api.overview();
      showLink(ov);
      if (!ov.local_blog_url && ov.spokes.length === 0 && tries > 1) setTimeout(() => void waitForLocal(tries - 1), 800);
    };
    setTimeout(() => void waitForLocal(15), 800);
  }
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
  void api.getSettings().then((st) => void spellIn(st.language)).catch(() => { /* no spell checking */ });
  void refreshStatus(); // needs the whole blog loaded; the writer can type meanwhile // the writing screen is loaded (end-to-end tests wait for this)
}
