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
import { onboarding } from "./screens/welcome";
import { writingScreen } from "./screens/writing";

applyTheme(savedTheme());

async function start() {
  mark("script");
  try {
    let o = await api.overview();
    if (o.preparing) {
      // Once, after an update, for a profile of an older layout: seconds for a large blog.
      root.replaceChildren(h("div", { class: "center" }, h("div", { class: "card", role: "status" },
        h("h1", {}, "Getting your blog ready"),
        h("p", {}, "This version of Spokes keeps each post on its own, so large blogs open at once. Moving your posts happens once and can take a minute for a blog of thousands of posts. Nothing is sent anywhere."),
        h("progress", { "aria-label": "Moving your posts" }))));
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
