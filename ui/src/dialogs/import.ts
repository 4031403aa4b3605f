// Bringing in posts from another blog: a WordPress or Ghost export file, or a Jekyll, Hugo or
// Zola folder; a preview of what comes in, then the import, as drafts.
import { open as openDialog } from "@tauri-apps/plugin-dialog";
import { api, asUiError, type ImportPreview } from "../api";
import { h } from "../dom";
import type { Screen } from "../screens/screen";

/** Posts listed in the preview; more are counted, not listed. */
const LISTED = 200;

const plural = (n: number, one: string, many: string) => `${n.toLocaleString()} ${n === 1 ? one : many}`;

/** Opens the import dialog over the writing screen. */
export function showImport(screen: Screen) {
  const msg = h("p", { id: "import-msg", class: "muted", role: "status" });
  const body = h("div", { id: "import-body" });
  const close = h("button", { id: "import-close", type: "button" }, "Close");
  const dialog = h("dialog", { id: "import-dialog", class: "wide" },
    h("div", { class: "dialog-head" }, h("h2", {}, "Bring in posts from another blog"), close), body, msg);
  const done = () => { dialog.close(); dialog.remove(); };
  close.addEventListener("click", done);

  const choose = () => {
    const file = h("button", { id: "import-file", type: "button", class: "primary" }, "Choose an export file…");
    const folder = h("button", { id: "import-folder", type: "button" }, "Choose a folder…");
    file.addEventListener("click", async () => {
      try {
        const path = await openDialog({ title: "Choose your blog's export file", multiple: false, directory: false,
          filters: [{ name: "WordPress or Ghost export", extensions: ["xml", "json"] }] });
        if (typeof path === "string") await preview([path]);
      } catch (e) { msg.textContent = asUiError(e).message; }
    });
    folder.addEventListener("click", async () => {
      try {
        const path = await openDialog({ title: "Choose your blog's folder", multiple: false, directory: true });
        if (typeof path === "string") await preview([path]);
      } catch (e) { msg.textContent = asUiError(e).message; }
    });
    body.replaceChildren(
      h("p", {}, "Your posts come in as drafts, with their dates, tags and pictures. Nothing is published until you publish it."),
      h("ul", { class: "sources" },
        h("li", {}, h("strong", {}, "WordPress: "), "the file from Tools → Export → All content. Put its ", h("em", {}, "uploads"), " folder beside it to bring the pictures too."),
        h("li", {}, h("strong", {}, "Ghost: "), "the file from Settings → Migration → Export. Put its ", h("em", {}, "images"), " folder beside it for the pictures."),
        h("li", {}, h("strong", {}, "Jekyll, Hugo or Zola: "), "the site's folder.")),
      h("div", { class: "toolbar" }, folder, file));
    file.focus();
  };

  const preview = async (paths: string[]) => {
    msg.textContent = "Reading…";
    const p: ImportPreview = await api.importPreview(paths);
    msg.textContent = "";
    const back = h("button", { id: "import-back", type: "button" }, "Back");
    back.addEventListener("click", () => { msg.textContent = ""; choose(); });
    if (p.posts.length === 0) {
      body.replaceChildren(h("p", { id: "import-summary" }, "No posts were found there."), h("div", { class: "toolbar" }, back));
      back.focus();
      return;
    }
    const go = h("button", { id: "import-go", type: "button", class: "primary" }, `Bring in ${plural(p.posts.length, "post", "posts")}`);
    const pictures = p.pictures ? `, with ${plural(p.pictures, "picture", "pictures")}` : "";
    const notes = p.posts.reduce((n, x) => n + x.warnings.length, 0);
    const list = h("ul", { id: "import-posts", class: "import-list", tabindex: "0", "aria-label": "Posts to bring in" },
      ...p.posts.slice(0, LISTED).map((x) => {
        const date = new Date(x.date).toLocaleDateString(undefined, { year: "numeric", month: "long", day: "numeric" });
        const li = h("li", {}, h("span", { class: "import-title" }, x.title), " ", h("span", { class: "muted" }, date));
        if (x.warnings.length) li.append(h("ul", { class: "notes" }, ...x.warnings.map((w) => h("li", {}, w))));
        return li;
      }));
    const more = p.posts.length > LISTED ? [h("p", { class: "muted" }, `…and ${plural(p.posts.length - LISTED, "more post", "more posts")}.`)] : [];
    const left = p.skipped.length
      ? [h("details", { id: "import-skipped" }, h("summary", {}, `Left out: ${plural(p.skipped.length, "entry that is not a post", "entries that are not posts")}`),
          h("ul", { tabindex: "0", "aria-label": "Left out" }, ...p.skipped.slice(0, LISTED).map((s) => h("li", {}, `${s.what}: ${s.why}`))))]
      : [];
    body.replaceChildren(
      h("p", { id: "import-summary" }, `${plural(p.posts.length, "post", "posts")} to bring in as drafts${pictures}.`,
        notes ? ` ${plural(notes, "note", "notes")} below on what could not come in exactly.` : ""),
      list, ...more, ...left,
      h("div", { class: "toolbar" }, back, go));
    go.addEventListener("click", async () => {
      go.disabled = true; back.disabled = true;
      msg.textContent = `Bringing in ${plural(p.posts.length, "post", "posts")}…`;
      try {
        const r = await api.importPosts(paths);
        await screen.refreshList();
        done();
        screen.status.textContent = `Brought in ${plural(r.posts, "post", "posts")} as drafts.`;
      } catch (e) {
        go.disabled = false; back.disabled = false;
        msg.textContent = asUiError(e).message;
      }
    });
    go.focus();
  };

  choose();
  document.body.append(dialog);
  dialog.showModal();
  (body.querySelector("#import-file") as HTMLElement | null)?.focus();
}
