// Help → Guide for writers: docs/guide.md (docs/guide.de.md in German), rendered as the
// preview renders posts, with its screenshots bundled into the app.
import guideEn from "../../../docs/guide.md?raw";
import guideDe from "../../../docs/guide.de.md?raw";
import recovery from "../../../docs/screenshots/recovery.png";
import writing from "../../../docs/screenshots/writing-light.png";
import published from "../../../docs/screenshots/published.png";
import importing from "../../../docs/screenshots/import-preview.png";
import recoveryDe from "../../../docs/screenshots/de-recovery.png";
import writingDe from "../../../docs/screenshots/de-writing.png";
import importingDe from "../../../docs/screenshots/de-import.png";
import { api } from "../api";
import { h } from "../dom";
import { language, t, type Language } from "../i18n";

/** The guide in each language the app speaks. */
export const GUIDES: Record<Language, string> = { en: guideEn, de: guideDe };

/** The guides' picture links, and the bundled files they name. */
const SHOTS: Record<string, string> = {
  "screenshots/recovery.png": recovery,
  "screenshots/writing-light.png": writing,
  "screenshots/published.png": published,
  "screenshots/import-preview.png": importing,
  "screenshots/de-recovery.png": recoveryDe,
  "screenshots/de-writing.png": writingDe,
  "screenshots/de-import.png": importingDe,
};

/** Opens the guide in a dialog over the window. */
export async function showGuide() {
  const [html] = await api.previewBlocks([GUIDES[language()]]);
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
