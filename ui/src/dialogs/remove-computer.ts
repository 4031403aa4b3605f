// The dialog that removes another of the writer's computers: no longer used, or lost or stolen.
import { api, asUiError, type DevicePublish, type IdentityDetails } from "../api";
import { errorLine, field, h } from "../dom";
import { dateTime, t } from "../i18n";

/**
 * Removes another of the writer's computers, in a dialog of its own. "No longer used"
 * keeps what it published; "lost or stolen" makes nothing it signed count any more, even
 * what whoever has it dates in the past, except its publishes up to the one the writer
 * says was their last (this computer signs those again). Both need the passphrase.
 */
export async function removeComputer(fingerprint: string, name: string, lost: boolean, done: (d: IdentityDetails) => void) {
  const pass = h("input", { id: "remove-device-pass", type: "password", autocomplete: "current-password" });
  const err = errorLine();
  const cancel = h("button", { id: "remove-device-cancel", type: "button" }, t("cancel"));
  const confirm = h("button", { id: "remove-device-confirm", type: "submit", class: "primary" }, t(lost ? "remove-for-good" : "remove"));
  const form = h("form", { method: "dialog" });
  form.append(h("h2", {}, t(lost ? "remove-lost-heading" : "remove-retire-heading", { name })));
  let choice: HTMLDivElement | null = null;
  if (lost) {
    form.append(h("p", {}, t("remove-lost-text")));
    const when = (s: number) => dateTime(s * 1000);
    let publishes: DevicePublish[] = [];
    try { publishes = await api.devicePublishes(fingerprint); } catch (e) { err.textContent = asUiError(e).message; }
    const option = (value: string, label: string, note: string) => h("label", { class: "choice" },
      h("input", { type: "radio", name: "keep", value }), h("span", {}, label, h("span", { class: "muted small" }, note)));
    const question = h("p", { id: "keep-question" }, t("remove-question"));
    choice = h("div", { id: "keep-choice", role: "radiogroup", "aria-labelledby": "keep-question" },
      ...publishes.slice().reverse().map((p) => option(String(p.index), p.titles.length ? p.titles.join(", ") : t("remove-blog-settings"), ` · ${when(p.signed_at)}`)),
      option("none", t(publishes.length ? "remove-none-of-these" : "remove-published-nothing"), ""));
    choice.addEventListener("change", () => { err.textContent = ""; });
    form.append(question, choice);
  } else {
    form.append(h("p", {}, t("remove-retire-text")));
  }
  form.append(field(t("your-passphrase"), pass), err, h("div", { class: "toolbar" }, cancel, confirm));
  const dialog = h("dialog", { id: "remove-device-dialog" }, form);
  document.body.append(dialog);
  const close = () => { dialog.close(); dialog.remove(); };
  cancel.addEventListener("click", close);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    err.textContent = "";
    const picked = choice?.querySelector<HTMLInputElement>("input:checked")?.value;
    if (lost && !picked) { err.textContent = t("remove-choose"); return; }
    confirm.disabled = true;
    confirm.textContent = t("remove-removing");
    try {
      done(await api.removeDevice(fingerprint, pass.value, lost, picked && picked !== "none" ? Number(picked) : null));
      close();
    } catch (e) {
      err.textContent = asUiError(e).message;
      confirm.disabled = false;
      confirm.textContent = t(lost ? "remove-for-good" : "remove");
      pass.select();
    }
  });
  dialog.showModal();
  (choice?.querySelector("input") ?? pass).focus();
}
