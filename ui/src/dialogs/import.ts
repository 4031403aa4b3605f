// Bringing in posts from another blog: a WordPress or Ghost export file, or a Jekyll, Hugo or
// Zola folder; a preview of what comes in, then the import, as drafts.
import { open as openDialog } from "@tauri-apps/plugin-dialog";
import { api, asUiError, type ImportPreview } from "../api";
import { h } from "../dom";
import { longDate, t } from "../i18n";
import type { Screen } from "../screens/screen";

/** Posts listed in the preview; more are counted, not listed. */
const LISTED = 200;

/** Opens the import dialog over the writing screen. */
export function showImport(screen: Screen) {
  const msg = h("p", { id: "import-msg", class: "muted", role: "status" });
  const body = h("div", { id: "import-body" });
  const close = h("button", { id: "import-close", type: "button" }, t("close"));
  const dialog = h("dialog", { id: "import-dialog", class: "wide" },
    h("div", { class: "dialog-head" }, h("h2", {}, t("import-heading")), close), body, msg);
  const done = () => { dialog.close(); dialog.remove(); };
  close.addEventListener("click", done);

  const choose = () => {
    const file = h("button", { id: "import-file", type: "button", class: "primary" }, t("import-file"));
    const folder = h("button", { id: "import-folder", type: "button" }, t("import-folder"));
    file.addEventListener("click", async () => {
      try {
        const path = await openDialog({ title: t("import-file-dialog"), multiple: false, directory: false,
          filters: [{ name: t("import-file-filter"), extensions: ["xml", "json"] }] });
        if (typeof path === "string") await preview([path]);
      } catch (e) { msg.textContent = asUiError(e).message; }
    });
    folder.addEventListener("click", async () => {
      try {
        const path = await openDialog({ title: t("import-folder-dialog"), multiple: false, directory: true });
        if (typeof path === "string") await preview([path]);
      } catch (e) { msg.textContent = asUiError(e).message; }
    });
    body.replaceChildren(
      h("p", {}, t("import-text")),
      h("ul", { class: "sources" },
        h("li", {}, h("strong", {}, "WordPress: "), t("import-wordpress")),
        h("li", {}, h("strong", {}, "Ghost: "), t("import-ghost")),
        h("li", {}, h("strong", {}, "Jekyll, Hugo, Zola: "), t("import-folders"))),
      h("div", { class: "toolbar" }, folder, file));
    file.focus();
  };

  const preview = async (paths: string[]) => {
    msg.textContent = t("import-reading");
    const p: ImportPreview = await api.importPreview(paths);
    msg.textContent = "";
    const back = h("button", { id: "import-back", type: "button" }, t("back"));
    back.addEventListener("click", () => { msg.textContent = ""; choose(); });
    if (p.posts.length === 0) {
      body.replaceChildren(h("p", { id: "import-summary" }, t("import-none")), h("div", { class: "toolbar" }, back));
      back.focus();
      return;
    }
    const go = h("button", { id: "import-go", type: "button", class: "primary" }, t("import-go", { n: p.posts.length }));
    const notes = p.posts.reduce((n, x) => n + x.notes.length, 0);
    const list = h("ul", { id: "import-posts", class: "import-list", tabindex: "0", "aria-label": t("import-list-label") },
      ...p.posts.slice(0, LISTED).map((x) => {
        const date = longDate(x.date);
        const li = h("li", {}, h("span", { class: "import-title" }, x.title), " ", h("span", { class: "muted" }, date));
        if (x.notes.length) li.append(h("ul", { class: "notes" }, ...x.notes.map((n) => h("li", {}, t(`note-${n.code}`, n)))));
        return li;
      }));
    const more = p.posts.length > LISTED ? [h("p", { class: "muted" }, t("import-more", { n: p.posts.length - LISTED }))] : [];
    const left = p.skipped.length
      ? [h("details", { id: "import-skipped" }, h("summary", {}, t("import-left-out", { n: p.skipped.length })),
          h("ul", { tabindex: "0", "aria-label": t("import-left-out-label") }, ...p.skipped.slice(0, LISTED).map((s) => h("li", {}, `${s.what}: ${t(`skip-${s.reason}`)}`))))]
      : [];
    body.replaceChildren(
      h("p", { id: "import-summary" }, t(p.pictures ? "import-summary-pictures" : "import-summary", { n: p.posts.length, pictures: p.pictures }),
        notes ? ` ${t("import-notes", { n: notes })}` : ""),
      list, ...more, ...left,
      h("div", { class: "toolbar" }, back, go));
    go.addEventListener("click", async () => {
      go.disabled = true; back.disabled = true;
      msg.textContent = t("import-bringing", { n: p.posts.length });
      try {
        const r = await api.importPosts(paths);
        await screen.refreshList();
        done();
        screen.status.textContent = t("import-done", { n: r.posts });
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
