// The first screens: making an identity and a blog (with the recovery file and the first
// spoke), or restoring a blog from a recovery file.
import { api, asUiError, type Overview } from "../api";
import { errorLine, field, h, root } from "../dom";
import { saveRecoveryAs } from "../dialogs/save-recovery";
import { open as openDialog } from "@tauri-apps/plugin-dialog";
import { writingScreen } from "./writing";
import { listen } from "@tauri-apps/api/event";

export function onboarding() {
  const name = h("input", { id: "name", autocomplete: "name", placeholder: "Ada Lovelace" });
  const title = h("input", { id: "blog-title", placeholder: "Notes from the engine room" });
  const pass = h("input", { id: "passphrase", type: "password", autocomplete: "new-password" });
  const pass2 = h("input", { id: "passphrase2", type: "password", autocomplete: "new-password" });
  const err = errorLine();
  const button = h("button", { id: "create", type: "submit", class: "primary" }, "Create my blog");
  const form = h("form", { class: "card" },
    h("h1", {}, "Welcome to Spokes"),
    h("p", {}, "Your blog lives on this computer. Everything you publish is signed with a key only you hold, so nobody can change your words without it showing."),
    field("Your name, as readers will see it", name),
    field("Your blog's title", title),
    field("A passphrase to protect your key (at least 8 characters)", pass),
    field("The same passphrase again", pass2),
    err, button);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    err.textContent = "";
    if (pass.value !== pass2.value) { err.textContent = "The two passphrases are different."; return; }
    button.disabled = true;
    button.textContent = "Creating your key…";
    try {
      const o = await api.createIdentity(name.value, title.value, pass.value);
      recoveryStep(o);
    } catch (e) {
      err.textContent = asUiError(e).message;
      button.disabled = false;
      button.textContent = "Create my blog";
    }
  });
  const restoreLink = h("button", { id: "restore-start", type: "button", class: "link" }, "I already have a blog: bring it back with my recovery file");
  restoreLink.addEventListener("click", () => restoreScreen());
  const keyLink = h("button", { id: "key-start", type: "button", class: "link" }, "I have an OpenPGP key (GnuPG, Kleopatra…): start with it");
  keyLink.addEventListener("click", () => keyScreen());
  const pairLink = h("button", { id: "join-start", type: "button", class: "link" }, "I write this blog on another computer: add this one");
  pairLink.addEventListener("click", () => joinScreen());
  root.replaceChildren(h("main", { class: "center" }, form,
    h("p", { class: "center-note" }, pairLink), h("p", { class: "center-note" }, restoreLink), h("p", { class: "center-note" }, keyLink)));
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
  const go = h("button", { id: "join-go", type: "submit", class: "primary" }, "Add this computer");
  const back = h("button", { id: "join-back", type: "button" }, "Back");
  const form = h("form", { class: "card" },
    h("h1", {}, "Add this computer"),
    h("p", {}, "On your other computer, open Spokes, then Settings → “Add another computer”. It shows a code: type or paste it here."),
    h("label", {}, h("span", {}, "The code"), code),
    field("Your passphrase", pass),
    err, h("div", { class: "toolbar" }, back, go));
  back.addEventListener("click", () => onboarding());
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    err.textContent = "";
    go.disabled = true;
    go.textContent = "Fetching your blog…";
    try {
      await writingScreen(await api.pairJoin(code.value, pass.value));
    } catch (e) {
      err.textContent = asUiError(e).message;
      go.disabled = false;
      go.textContent = "Add this computer";
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
  const pick = h("button", { id: "key-pick", type: "button" }, "Choose the key file…");
  const file = h("p", { id: "key-file", class: "muted" }, "No file chosen yet.");
  const title = h("input", { id: "key-blog-title", placeholder: "Notes from the engine room" });
  const pass = h("input", { id: "key-pass", type: "password", autocomplete: "current-password" });
  const err = errorLine();
  const go = h("button", { id: "key-go", type: "submit", class: "primary" }, "Start my blog with this key");
  const back = h("button", { id: "key-back", type: "button" }, "Back");
  const form = h("form", { class: "card" },
    h("h1", {}, "Start with your own key"),
    h("p", {}, "Export your secret key to a file first: in Kleopatra or GPG Keychain, “Export secret keys”; with GnuPG, ",
      h("code", {}, "gpg --export-secret-keys --armor you@example.org > my-key.asc"), "."),
    h("p", { class: "muted" }, "Your blog is signed with it. The name and email address in the key are part of it, and readers can see them."),
    h("div", { class: "toolbar" }, pick), file,
    field("Your blog's title", title),
    field("The key's passphrase", pass),
    err, h("div", { class: "toolbar" }, back, go));
  pick.addEventListener("click", async () => {
    err.textContent = "";
    try {
      const path = await openDialog({ title: "Choose your secret key file", multiple: false, directory: false, filters: [{ name: "OpenPGP secret key", extensions: ["asc", "gpg", "pgp", "key"] }] });
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
    if (!chosen) { err.textContent = "Choose your key file first."; return; }
    go.disabled = true;
    go.textContent = "Opening your key…";
    try {
      recoveryStep(await api.createFromKey(chosen, title.value, pass.value));
    } catch (e) {
      err.textContent = asUiError(e).message;
      go.disabled = false;
      go.textContent = "Start my blog with this key";
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
  const pick = h("button", { id: "restore-pick", type: "button" }, "Choose the recovery file…");
  const file = h("p", { id: "restore-file", class: "muted" }, "No file chosen yet. It is named spokes-recovery-….json, often in your Documents folder.");
  const pass = h("input", { id: "restore-pass", type: "password", autocomplete: "current-password" });
  const err = errorLine();
  const go = h("button", { id: "restore-go", type: "submit", class: "primary" }, "Bring my blog back");
  const back = h("button", { id: "restore-back", type: "button" }, "Back");
  const form = h("form", { class: "card" },
    h("h1", {}, "Bring your blog back"),
    h("p", {}, "Your recovery file and your passphrase bring back your name, your key and your whole blog, with its history and drafts, from the spokes that host it."),
    h("div", { class: "toolbar" }, pick), file,
    field("The passphrase you chose for it", pass),
    err, h("div", { class: "toolbar" }, back, go));
  pick.addEventListener("click", async () => {
    err.textContent = "";
    try {
      const path = await openDialog({ title: "Choose your recovery file", multiple: false, directory: false, filters: [{ name: "Spokes recovery file", extensions: ["json"] }] });
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
    if (!chosen) { err.textContent = "Choose your recovery file first."; return; }
    go.disabled = true;
    go.textContent = "Fetching your blog from its spokes…";
    try {
      const o = await api.restoreBlog(chosen, pass.value);
      await writingScreen(o);
    } catch (e) {
      err.textContent = asUiError(e).message;
      go.disabled = false;
      go.textContent = "Bring my blog back";
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
  const print = h("button", { id: "recovery-print", type: "button" }, "Show a printable sheet");
  const copy = h("button", { id: "recovery-copy", type: "button", title: "For example on a USB stick" }, "Save a copy…");
  const copied = h("p", { id: "recovery-copied", class: "muted", role: "status" });
  const done = h("button", { id: "recovery-done", type: "button", class: "primary" }, "Next");
  const card = h("section", { class: "card", "aria-labelledby": "recovery-heading" },
    h("h1", { id: "recovery-heading" }, "Keep a way back in"),
    h("p", {}, "If this computer is lost or breaks, your recovery file and your passphrase bring back your name and your whole blog on a new one."),
    h("p", {}, "Saved to ", where),
    h("p", { class: "muted" }, "Copy it to a USB stick or another safe place, or print the sheet and keep it with your papers. Without your passphrase it opens nothing."),
    err, copied, h("div", { class: "toolbar" }, copy, print, done));
  root.replaceChildren(h("main", { class: "center" }, card));
  done.focus();
  copy.addEventListener("click", async () => {
    try {
      const path = await saveRecoveryAs();
      if (path) copied.textContent = `Also saved to ${path}`;
    } catch (e) { err.textContent = asUiError(e).message; }
  });
  try { where.textContent = await api.saveRecoveryFile(); } catch (e) { where.textContent = "not saved"; err.textContent = asUiError(e).message; }
  print.addEventListener("click", async () => {
    try {
      const frame = h("iframe", { id: "recovery-sheet", title: "Recovery sheet", class: "sheet" });
      frame.srcdoc = await api.recoverySheet();
      const printNow = h("button", { id: "sheet-print", type: "button", class: "primary" }, "Print");
      const close = h("button", { id: "sheet-close", type: "button" }, "Close");
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
  const ticket = h("input", { id: "onboard-ticket", placeholder: "spokes1… or a link that contains it", "aria-label": "Invite" });
  const add = h("button", { id: "onboard-add", type: "button" }, "Add this spoke");
  const added = h("ul", { id: "onboard-spokes", class: "muted" });
  const done = h("button", { id: "onboard-done", type: "button", class: "primary" }, "Start writing");
  const local = h("p", { class: "muted" }, "No invite yet? Keep your blog on this computer for now: you can read it in your browser, and add spokes later in the sidebar.");
  const card = h("section", { class: "card", "aria-labelledby": "spokes-heading" },
    h("h1", { id: "spokes-heading" }, "Where your blog will live"),
    h("p", {}, "Spokes are small servers run by different people. Each one you add keeps a copy of your blog and shows it to readers, so none of them can take it down alone. A spoke's operator gives you an invite."),
    field("Invite", ticket), h("div", { class: "toolbar" }, add), added, local, err,
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
      added.replaceChildren(...o.spokes.map((sp) => h("li", {}, `${sp.name ?? "A spoke"}: added. Your first publish sends your blog there.`)));
      done.textContent = "Start writing";
    } catch (e) { err.textContent = asUiError(e).message; }
  });
  ticket.addEventListener("keydown", (ev) => { if (ev.key === "Enter") add.click(); });
  done.addEventListener("click", () => writingScreen(o));
}

