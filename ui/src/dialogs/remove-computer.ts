// The dialog that removes another of the writer's computers: no longer used, or lost or stolen.
import { api, asUiError, type DevicePublish, type IdentityDetails } from "../api";
import { errorLine, field, h } from "../dom";

/**
 * Removes another of the writer's computers, in a dialog of its own. "No longer used"
 * keeps what it published; "lost or stolen" makes nothing it signed count any more, even
 * what whoever has it dates in the past, except its publishes up to the one the writer
 * says was their last (this computer signs those again). Both need the passphrase.
 */
export async function removeComputer(fingerprint: string, name: string, lost: boolean, done: (d: IdentityDetails) => void) {
  const pass = h("input", { id: "remove-device-pass", type: "password", autocomplete: "current-password" });
  const err = errorLine();
  const cancel = h("button", { id: "remove-device-cancel", type: "button" }, "Cancel");
  const confirm = h("button", { id: "remove-device-confirm", type: "submit", class: "primary" }, lost ? "Remove for good" : "Remove");
  const form = h("form", { method: "dialog" });
  form.append(h("h2", {}, lost ? `${name} was lost or stolen` : `${name} is no longer used`));
  let choice: HTMLDivElement | null = null;
  if (lost) {
    form.append(h("p", {}, "Whoever has it could publish in your name. Once you remove it, nothing it signed counts, even posts it dates in the past. Your spokes learn this when they next hear from you."));
    const when = (t: number) => new Date(t * 1000).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
    let publishes: DevicePublish[] = [];
    try { publishes = await api.devicePublishes(fingerprint); } catch (e) { err.textContent = asUiError(e).message; }
    const option = (value: string, label: string, note: string) => h("label", { class: "choice" },
      h("input", { type: "radio", name: "keep", value }), h("span", {}, label, h("span", { class: "muted small" }, note)));
    const question = h("p", { id: "keep-question" }, "Which was the last thing you published from it yourself? It stays; anything after it goes.");
    choice = h("div", { id: "keep-choice", role: "radiogroup", "aria-labelledby": "keep-question" },
      ...publishes.slice().reverse().map((p) => option(String(p.index), p.titles.length ? p.titles.join(", ") : "Blog settings", ` · ${when(p.signed_at)}`)),
      option("none", publishes.length ? "None of these" : "It published nothing", ""));
    choice.addEventListener("change", () => { err.textContent = ""; });
    form.append(question, choice);
  } else {
    form.append(h("p", {}, "What it published stays. Choose this only for a computer nobody else has, such as one you wiped or that broke. If it may be in someone else's hands, choose \"Lost or stolen\" instead."));
  }
  form.append(field("Your passphrase", pass), err, h("div", { class: "toolbar" }, cancel, confirm));
  const dialog = h("dialog", { id: "remove-device-dialog" }, form);
  document.body.append(dialog);
  const close = () => { dialog.close(); dialog.remove(); };
  cancel.addEventListener("click", close);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    err.textContent = "";
    const picked = choice?.querySelector<HTMLInputElement>("input:checked")?.value;
    if (lost && !picked) { err.textContent = "Choose the last thing you published from it, or \"None of these\"."; return; }
    confirm.disabled = true;
    confirm.textContent = "Removing and telling your spokes…";
    try {
      done(await api.removeDevice(fingerprint, pass.value, lost, picked && picked !== "none" ? Number(picked) : null));
      close();
    } catch (e) {
      err.textContent = asUiError(e).message;
      confirm.disabled = false;
      confirm.textContent = lost ? "Remove for good" : "Remove";
      pass.select();
    }
  });
  dialog.showModal();
  (choice?.querySelector("input") ?? pass).focus();
}
