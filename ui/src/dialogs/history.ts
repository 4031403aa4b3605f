// The History dialog: a post's published versions, what changed since each, and restoring one.
import { api, asUiError, type Revision } from "../api";
import { h } from "../dom";
import { t } from "../i18n";
import { revisionLabels } from "../format";
import type { Screen } from "../screens/screen";

/** The post's published revisions: pick one to see what changed since, and restore it. */
export async function showHistory(screen: Screen) {
  if (!screen.current) return;
  await screen.flush();
  const post = screen.current;
  const revisions = await api.postHistory(post.id);
  const items = h("ol", { class: "revisions", id: "revisions" });
  const diff = h("pre", { class: "diff", id: "diff", "aria-live": "polite" });
  const restore = h("button", { id: "restore", type: "button", class: "primary", disabled: "" }, t("history-restore"));
  const close = h("button", { id: "history-close", type: "button" }, t("close"));
  const dialog = h("dialog", { id: "history-dialog", class: "wide" },
    h("h2", {}, t("history-heading", { title: post.title || t("untitled") })),
    h("p", { class: "muted" }, t(revisions.length ? "history-text" : "history-none")),
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
      const parts = await api.diffText(r.post.body, screen.text());
      diff.replaceChildren(...parts.map((p) => h("span", { class: p.kind }, p.text)));
      if (!parts.some((p) => p.kind !== "same")) diff.replaceChildren(h("span", { class: "same" }, t("history-same")));
    });
    items.append(h("li", {}, b));
  });
  close.addEventListener("click", () => { dialog.close(); dialog.remove(); });
  restore.addEventListener("click", async () => {
    if (!chosen) return;
    try {
      await api.restoreRevision(post.id, chosen.heads);
      dialog.close(); dialog.remove();
      await screen.open(post.id);
      await screen.refreshList();
      screen.err.textContent = "";
      screen.status.textContent = t("history-restored", { when: chosenLabel });
    } catch (e) { screen.err.textContent = asUiError(e).message; }
  });
  document.body.append(dialog);
  dialog.showModal();
}
