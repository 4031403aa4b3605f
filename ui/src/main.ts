// Spokes desktop UI: the first screen to show. Screens are in ./screens, dialogs in
// ./dialogs; every Rust call goes through api.ts.
// The writing face, bundled (SIL Open Font License): iA Writer Quattro, a proportional
// companion to the monospace faces writers know from iA Writer.
import "@fontsource/ia-writer-quattro/400.css";
import "@fontsource/ia-writer-quattro/400-italic.css";
import "@fontsource/ia-writer-quattro/700.css";
import "@fontsource/ia-writer-quattro/700-italic.css";
import { api, asUiError } from "./api";
import { applyTheme, h, mark, root, savedTheme } from "./dom";
import { language, pickLanguage, savedLanguage, t, useLanguage } from "./i18n";
import { onboarding } from "./screens/welcome";
import { writingScreen } from "./screens/writing";

applyTheme(savedTheme());

/**
 * Speaks the writer's language: their choice, else the desktop's (asked of the Rust side, which
 * reads the desktop's locale as it is set); the menu bar and the desktop's notifications too.
 */
async function chooseLanguage() {
  const desktop = await api.systemLocales().catch(() => null);
  if (desktop?.length) useLanguage(pickLanguage(savedLanguage(), desktop), desktop);
  const loading = root.querySelector(".loading");
  if (loading) loading.textContent = t("opening-blog");
  void api.setLanguage(language()).catch(() => { /* tests of the page alone */ });
}

async function start() {
  mark("script");
  const spoken = chooseLanguage();
  try {
    let o = await api.overview();
    await spoken;
    if (o.preparing) {
      // Once, after an update, for a profile of an older layout: seconds for a large blog.
      root.replaceChildren(h("div", { class: "center" }, h("div", { class: "card", role: "status" },
        h("h1", {}, t("preparing-heading")),
        h("p", {}, t("preparing-text")),
        h("progress", { "aria-label": t("preparing-progress") }))));
      while (o.preparing) {
        await new Promise((done) => setTimeout(done, 500));
        o = await api.overview();
      }
    }
    mark("overview");
    if (!o.has_profile) return onboarding();
    // Writing needs no key: the passphrase is asked for the first time the writer publishes.
    return writingScreen(o);
  } catch (e) {
    root.replaceChildren(h("p", { class: "error" }, asUiError(e).message));
  }
}

void start();
