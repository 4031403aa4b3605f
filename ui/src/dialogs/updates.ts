// New versions of the app: the "Updates" part of Settings → On this computer, and the quiet
// look for one when the app starts. Only a copy running from an AppImage updates itself
// (src-tauri/src/commands/updates.rs); the .deb is updated by the system's software updates.
import { api, asUiError, type UpdateCheck } from "../api";
import { h } from "../dom";
import { num, t } from "../i18n";

const LOOK_KEY = "updates.look";
/** The new version the look at start found, for Settings to offer. */
let foundAtStart: UpdateCheck | null = null;
/** Whether the app looks for a new version when it starts (on unless the writer said no, on this computer). */
export const looksAtStart = () => localStorage.getItem(LOOK_KEY) !== "off";

/** The sentence for a failed check or install: what went wrong with the update, in the app's language. */
function updateProblem(e: unknown): string {
  const err = asUiError(e);
  const byCode: Record<string, string> = {
    connection: "update-error-connection", "bad-signature": "update-error-refused", malformed: "update-error-malformed", io: "update-error-io",
    "too-large": "update-error-too-large",
  };
  return byCode[err.code] ? t(byCode[err.code]) : err.message;
}

/**
 * The "Updates" part of Settings: this version, a button to look for a new one, then to
 * install it (with its progress) and to restart into it. `flush` saves what was typed before
 * a restart. `found` is a check already made (by default the look at start's, if it found one).
 */
export function updatesSection(flush: () => Promise<void>, found: UpdateCheck | null = foundAtStart): HTMLElement {
  const status = h("p", { id: "update-status", role: "status" });
  const notes = h("p", { id: "update-notes", class: "muted" });
  const progress = h("progress", { id: "update-progress", max: "1", hidden: "" });
  const look = h("button", { id: "check-update", type: "button" }, t("update-look"));
  const install = h("button", { id: "install-update", type: "button", class: "primary", hidden: "" });
  const restart = h("button", { id: "restart-update", type: "button", class: "primary", hidden: "" }, t("update-restart"));
  const auto = h("input", { id: "update-at-start", type: "checkbox" });
  auto.checked = looksAtStart();
  auto.addEventListener("change", () => localStorage.setItem(LOOK_KEY, auto.checked ? "on" : "off"));
  const autoLabel = h("label", { class: "choice" }, auto, h("span", {}, t("update-at-start")));
  const box = h("div", { id: "updates" }, status, notes, progress, h("div", { class: "toolbar" }, look, install, restart), autoLabel);

  const show = (c: UpdateCheck) => {
    install.hidden = true;
    notes.textContent = "";
    // Only an AppImage copy updates itself: the others say who keeps them up to date.
    const own = c.state === "unchecked" || c.state === "up-to-date" || c.state === "available";
    look.hidden = !own;
    autoLabel.hidden = !own;
    if (c.state === "available") {
      status.textContent = t("update-available", { version: c.new_version, current: c.version });
      notes.textContent = c.notes ?? "";
      install.textContent = t("update-install", { version: c.new_version });
      install.hidden = false;
    } else {
      status.textContent = t(`update-${c.state}`, { version: c.version });
    }
  };
  look.addEventListener("click", async () => {
    look.disabled = true;
    status.textContent = t("update-looking");
    try { show(await api.checkForUpdate(true)); } catch (e) { status.textContent = updateProblem(e); } finally { look.disabled = false; }
  });
  install.addEventListener("click", async () => {
    const version = install.textContent ?? "";
    install.disabled = look.disabled = true;
    progress.hidden = false;
    progress.removeAttribute("value");
    status.textContent = t("update-downloading");
    try {
      await api.installUpdate((p) => {
        if (p.total) {
          progress.value = p.received / p.total;
          status.textContent = t("update-downloading-part", { percent: num(Math.floor((100 * p.received) / p.total)) });
        }
      });
      status.textContent = t("update-installed");
      foundAtStart = null;
      document.getElementById("update-notice")?.setAttribute("hidden", "");
      install.hidden = true;
      look.hidden = true;
      restart.hidden = false;
      restart.focus();
    } catch (e) {
      status.textContent = updateProblem(e);
      install.textContent = version;
    } finally {
      progress.hidden = true;
      install.disabled = look.disabled = false;
    }
  });
  restart.addEventListener("click", async () => {
    await flush();
    await api.restartApp();
  });
  if (found) show(found);
  else void api.checkForUpdate(false).then(show).catch((e) => { status.textContent = updateProblem(e); });
  return box;
}

/**
 * Looks for a new version a little after the app started, unless the writer turned that off;
 * `found` is told only when there is one (a failed look stays quiet: Settings can look again).
 */
export function lookAtStart(found: (c: UpdateCheck) => void) {
  if (!looksAtStart()) return;
  setTimeout(() => {
    void api.checkForUpdate(true).then((c) => { if (c.state === "available") { foundAtStart = c; found(c); } }).catch(() => { /* offline: Settings can look again */ });
  }, 5000);
}
