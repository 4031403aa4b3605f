// The first screens: making an identity and a blog (with the recovery file and the first
// spoke), or restoring a blog from a recovery file.
import { api, asUiError, type Overview } from "../api";
import { errorLine, field, h, languageSelect, root } from "../dom";
import { t } from "../i18n";
import { saveRecoveryAs } from "../dialogs/save-recovery";
import { open as openDialog } from "@tauri-apps/plugin-dialog";
import { writingScreen } from "./writing";
import { listen } from "@tauri-apps/api/event";

export function onboarding() {
  const name = h("input", { id: "name", autocomplete: "name", placeholder: t("welcome-name-example") });
  const title = h("input", { id: "blog-title", placeholder: t("welcome-title-example") });
  const pass = h("input", { id: "passphrase", type: "password", autocomplete: "new-password" });
  const pass2 = h("input", { id: "passphrase2", type: "password", autocomplete: "new-password" });
  const err = errorLine();
  const button = h("button", { id: "create", type: "submit", class: "primary" }, t("welcome-create"));
  const form = h("form", { class: "card" },
    h("h1", {}, t("welcome-heading")),
    h("p", {}, t("welcome-text")),
    field(t("welcome-name"), name),
    field(t("welcome-title"), title),
    field(t("welcome-passphrase"), pass),
    field(t("welcome-passphrase-again"), pass2),
    err, button);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    err.textContent = "";
    if (pass.value !== pass2.value) { err.textContent = t("welcome-passphrases-differ"); return; }
    button.disabled = true;
    button.textContent = t("welcome-creating");
    try {
      const o = await api.createIdentity(name.value, title.value, pass.value);
      recoveryStep(o);
    } catch (e) {
      err.textContent = asUiError(e).message;
      button.disabled = false;
      button.textContent = t("welcome-create");
    }
  });
  const restoreLink = h("button", { id: "restore-start", type: "button", class: "link" }, t("welcome-restore"));
  restoreLink.addEventListener("click", () => restoreScreen());
  const keyLink = h("button", { id: "key-start", type: "button", class: "link" }, t("welcome-key"));
  keyLink.addEventListener("click", () => keyScreen());
  const pairLink = h("button", { id: "join-start", type: "button", class: "link" }, t("welcome-join"));
  pairLink.addEventListener("click", () => joinScreen());
  root.replaceChildren(h("main", { class: "center" }, form,
    h("p", { class: "center-note" }, pairLink), h("p", { class: "center-note" }, restoreLink), h("p", { class: "center-note" }, keyLink),
    h("p", { class: "center-note" }, languageSelect("welcome-language"))));
  name.focus();
}

/**
 * Another of the writer's computers shows a pairing code (Settings → Add another computer):
 * with it and the passphrase, this computer gets a key of its own and the blog from its spokes.
 */
function joinScreen() {
  const code = h("textarea", { id: "join-code", rows: "3", placeholder: "spokespair1…", spellcheck: "false" });
  const pass = h("input", { id: "join-pass", type: "password", autocomplete: "current-password" });
  const err = errorLine();
  const go = h("button", { id: "join-go", type: "submit", class: "primary" }, t("join-go"));
  const back = h("button", { id: "join-back", type: "button" }, t("back"));
  const form = h("form", { class: "card" },
    h("h1", {}, t("join-go")),
    h("p", {}, t("join-text")),
    h("label", {}, h("span", {}, t("join-code")), code),
    field(t("your-passphrase"), pass),
    err, h("div", { class: "toolbar" }, back, go));
  back.addEventListener("click", () => onboarding());
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    err.textContent = "";
    go.disabled = true;
    go.textContent = t("join-fetching");
    try {
      await writingScreen(await api.pairJoin(code.value, pass.value));
    } catch (e) {
      err.textContent = asUiError(e).message;
      go.disabled = false;
      go.textContent = t("join-go");
    }
  });
  root.replaceChildren(h("main", { class: "center" }, form));
  code.focus();
}

/**
 * A writer who already has an OpenPGP key: its exported secret key file (picked in the
 * desktop's open dialog) and its passphrase make the identity, so readers who know the key
 * know the blog is theirs.
 */
function keyScreen() {
  let chosen: string | null = null;
  const pick = h("button", { id: "key-pick", type: "button" }, t("key-pick"));
  const file = h("p", { id: "key-file", class: "muted" }, t("key-no-file"));
  const title = h("input", { id: "key-blog-title", placeholder: t("welcome-title-example") });
  const pass = h("input", { id: "key-pass", type: "password", autocomplete: "current-password" });
  const err = errorLine();
  const go = h("button", { id: "key-go", type: "submit", class: "primary" }, t("key-go"));
  const back = h("button", { id: "key-back", type: "button" }, t("back"));
  const form = h("form", { class: "card" },
    h("h1", {}, t("key-heading")),
    h("p", {}, t("key-export"), " ",
      h("code", {}, "gpg --export-secret-keys --armor you@example.org > my-key.asc"), "."),
    h("p", { class: "muted" }, t("key-text")),
    h("div", { class: "toolbar" }, pick), file,
    field(t("welcome-title"), title),
    field(t("key-passphrase"), pass),
    err, h("div", { class: "toolbar" }, back, go));
  pick.addEventListener("click", async () => {
    err.textContent = "";
    try {
      const path = await openDialog({ title: t("key-dialog-title"), multiple: false, directory: false, filters: [{ name: t("key-dialog-filter"), extensions: ["asc", "gpg", "pgp", "key"] }] });
      if (typeof path !== "string") return;
      chosen = path;
      file.textContent = path.split(/[\\/]/).pop() ?? path; // the name is enough to recognise it
      file.title = path;
      title.focus();
    } catch (e) { err.textContent = asUiError(e).message; }
  });
  back.addEventListener("click", () => onboarding());
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    err.textContent = "";
    if (!chosen) { err.textContent = t("key-choose-first"); return; }
    go.disabled = true;
    go.textContent = t("key-opening");
    try {
      recoveryStep(await api.createFromKey(chosen, title.value, pass.value));
    } catch (e) {
      err.textContent = asUiError(e).message;
      go.disabled = false;
      go.textContent = t("key-go");
    }
  });
  root.replaceChildren(h("main", { class: "center" }, form));
  pick.focus();
}

/**
 * A new computer, or one that was wiped: the recovery file (picked in the desktop's open
 * dialog) and its passphrase bring back the name, the key and the whole blog from its spokes.
 */
function restoreScreen() {
  let chosen: string | null = null;
  const pick = h("button", { id: "restore-pick", type: "button" }, t("restore-pick"));
  const file = h("p", { id: "restore-file", class: "muted" }, t("restore-no-file"));
  const pass = h("input", { id: "restore-pass", type: "password", autocomplete: "current-password" });
  const err = errorLine();
  const go = h("button", { id: "restore-go", type: "submit", class: "primary" }, t("restore-go"));
  const back = h("button", { id: "restore-back", type: "button" }, t("back"));
  const form = h("form", { class: "card" },
    h("h1", {}, t("restore-heading")),
    h("p", {}, t("restore-text")),
    h("div", { class: "toolbar" }, pick), file,
    field(t("restore-passphrase"), pass),
    err, h("div", { class: "toolbar" }, back, go));
  pick.addEventListener("click", async () => {
    err.textContent = "";
    try {
      const path = await openDialog({ title: t("restore-dialog-title"), multiple: false, directory: false, filters: [{ name: t("recovery-file-filter"), extensions: ["json"] }] });
      if (typeof path !== "string") return;
      chosen = path;
      file.textContent = path;
      pass.focus();
    } catch (e) { err.textContent = asUiError(e).message; }
  });
  back.addEventListener("click", () => onboarding());
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    err.textContent = "";
    if (!chosen) { err.textContent = t("restore-choose-first"); return; }
    go.disabled = true;
    go.textContent = t("restore-fetching");
    try {
      const o = await api.restoreBlog(chosen, pass.value);
      await writingScreen(o);
    } catch (e) {
      err.textContent = asUiError(e).message;
      go.disabled = false;
      go.textContent = t("restore-go");
    }
  });
  root.replaceChildren(h("main", { class: "center" }, form));
  pick.focus();
}

/**
 * The last onboarding step: the recovery file is saved at once (a writer who clicks straight
 * through still has one), the sheet can be printed, then writing starts.
 */
async function recoveryStep(o: Overview) {
  const err = errorLine();
  const where = h("code", { id: "recovery-path" }, "…");
  const print = h("button", { id: "recovery-print", type: "button" }, t("recovery-print"));
  const copy = h("button", { id: "recovery-copy", type: "button", title: t("recovery-copy-tip") }, t("recovery-copy"));
  const copied = h("p", { id: "recovery-copied", class: "muted", role: "status" });
  const done = h("button", { id: "recovery-done", type: "button", class: "primary" }, t("next"));
  const card = h("section", { class: "card", "aria-labelledby": "recovery-heading" },
    h("h1", { id: "recovery-heading" }, t("recovery-heading")),
    h("p", {}, t("recovery-text")),
    h("p", {}, t("recovery-saved-to"), " ", where),
    h("p", { class: "muted" }, t("recovery-keep")),
    err, copied, h("div", { class: "toolbar" }, copy, print, done));
  root.replaceChildren(h("main", { class: "center" }, card));
  done.focus();
  copy.addEventListener("click", async () => {
    try {
      const path = await saveRecoveryAs();
      if (path) copied.textContent = t("recovery-also-saved", { path });
    } catch (e) { err.textContent = asUiError(e).message; }
  });
  try { where.textContent = await api.saveRecoveryFile(); } catch (e) { where.textContent = t("recovery-not-saved"); err.textContent = asUiError(e).message; }
  print.addEventListener("click", async () => {
    try {
      const frame = h("iframe", { id: "recovery-sheet", title: t("recovery-sheet"), class: "sheet" });
      frame.srcdoc = await api.recoverySheet();
      const printNow = h("button", { id: "sheet-print", type: "button", class: "primary" }, t("recovery-print-now"));
      const close = h("button", { id: "sheet-close", type: "button" }, t("close"));
      const dialog = h("dialog", { id: "sheet-dialog" }, frame, h("div", { class: "toolbar" }, close, printNow));
      printNow.addEventListener("click", () => frame.contentWindow?.print());
      close.addEventListener("click", () => { dialog.close(); dialog.remove(); });
      document.body.append(dialog);
      dialog.showModal();
    } catch (e) { err.textContent = asUiError(e).message; }
  });
  done.addEventListener("click", () => spokesStep(o));
}

/** The last step: where the blog will live. Spokes from invites, or this computer for now. */
function spokesStep(o: Overview) {
  const err = errorLine();
  const ticket = h("input", { id: "onboard-ticket", placeholder: t("onboard-invite-placeholder"), "aria-label": t("invite-label") });
  const add = h("button", { id: "onboard-add", type: "button" }, t("onboard-add"));
  const added = h("ul", { id: "onboard-spokes", class: "muted" });
  const done = h("button", { id: "onboard-done", type: "button", class: "primary" }, t("onboard-done"));
  const local = h("p", { class: "muted" }, t("onboard-local"));
  const card = h("section", { class: "card", "aria-labelledby": "spokes-heading" },
    h("h1", { id: "spokes-heading" }, t("onboard-heading")),
    h("p", {}, t("onboard-text")),
    field(t("invite-label"), ticket), h("div", { class: "toolbar" }, add), added, local, err,
    h("div", { class: "toolbar" }, done));
  root.replaceChildren(h("main", { class: "center" }, card));
  ticket.focus();
  // Started by a clicked invite link, or one clicked now: it waits in the field for "Add".
  const offer = (t: string) => { if (!ticket.isConnected) return; ticket.value = t; add.focus(); };
  void api.takeInvite().then((t) => { if (t) offer(t); }).catch(() => { /* tests of the page alone */ });
  void listen<string>("invite", (ev) => offer(ev.payload)).catch(() => { /* tests of the page alone */ });
  add.addEventListener("click", async () => {
    err.textContent = "";
    try {
      o = await api.addSpoke(ticket.value);
      ticket.value = "";
      added.replaceChildren(...o.spokes.map((sp) => h("li", {}, t("onboard-added", { name: sp.name ?? t("a-spoke") }))));
      done.textContent = t("onboard-done");
    } catch (e) { err.textContent = asUiError(e).message; }
  });
  ticket.addEventListener("keydown", (ev) => { if (ev.key === "Enter") add.click(); });
  done.addEventListener("click", () => writingScreen(o));
}

