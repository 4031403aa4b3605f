// Spokes desktop UI: the first screen to show. Screens are in ./screens, dialogs in
// ./dialogs; every Rust call goes through api.ts.
import { api, asUiError } from "./api";
import { applyTheme, h, mark, root, savedTheme } from "./dom";
import { onboarding } from "./screens/welcome";
import { writingScreen } from "./screens/writing";

applyTheme(savedTheme());

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

void start();
