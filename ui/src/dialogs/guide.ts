// Help → Guide for writers: docs/guide.md, rendered as the preview renders posts, with its
// screenshots bundled into the app.
import guide from "../../../docs/guide.md?raw";
import recovery from "../../../docs/screenshots/recovery.png";
import writing from "../../../docs/screenshots/writing-light.png";
import published from "../../../docs/screenshots/published.png";
import importing from "../../../docs/screenshots/import-preview.png";
import { api } from "../api";
import { h } from "../dom";
import { t } from "../i18n";

/** The guide's picture links, and the bundled files they name. */
const SHOTS: Record<string, string> = {
  "screenshots/recovery.png": recovery,
  "screenshots/writing-light.png": writing,
  "screenshots/published.png": published,
  "screenshots/import-preview.png": importing,
};

/** Opens the guide in a dialog over the window. */
export async function showGuide() {
  const [html] = await api.previewBlocks([guide]);
  const body = h("div", { id: "guide-body", class: "guide", tabindex: "0" });
  body.innerHTML = html; // sanitised by the renderer, as every preview is
  for (const img of Array.from(body.querySelectorAll("img"))) {
    const bundled = SHOTS[img.getAttribute("src") ?? ""];
    if (bundled) img.src = bundled; else img.remove();
  }
  const close = h("button", { id: "guide-close", type: "button" }, t("close"));
  const dialog = h("dialog", { id: "guide-dialog", class: "wide", "aria-label": t("menu-guide") },
    h("div", { class: "dialog-head" }, h("h2", {}, t("menu-guide")), close), body);
  close.addEventListener("click", () => { dialog.close(); dialog.remove(); });
  dialog.addEventListener("close", () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  close.focus();
}
