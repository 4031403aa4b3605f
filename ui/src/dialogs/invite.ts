// An invitation to publish on a spoke, from a `spokes:` link the writer clicked: offered in a
// dialog of its own, added only when the writer says so.
import { api, asUiError, type Overview } from "../api";
import { errorLine, h } from "../dom";
import { t } from "../i18n";

/** Offers the spoke `ticket` names; `added` is told the new overview once it is added. */
export function offerInvite(ticket: string, added: (o: Overview) => void) {
  document.getElementById("invite-dialog")?.remove(); // a second link replaces the first
  const err = errorLine();
  const later = h("button", { id: "invite-later", type: "button" }, t("invite-later"));
  const add = h("button", { id: "invite-add", type: "submit", class: "primary" }, t("invite-add"));
  const form = h("form", { method: "dialog" },
    h("h2", {}, t("invite-title")), h("p", {}, t("invite-text")), err, h("div", { class: "toolbar" }, later, add));
  const dialog = h("dialog", { id: "invite-dialog" }, form);
  document.body.append(dialog);
  const close = () => { dialog.close(); dialog.remove(); };
  later.addEventListener("click", close);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    add.disabled = true;
    try { added(await api.addSpoke(ticket)); close(); }
    catch (e) { err.textContent = asUiError(e).message; add.disabled = false; }
  });
  dialog.showModal();
  add.focus();
}
