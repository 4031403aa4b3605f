// Changing the passphrase: the current one, the new one twice; then the offer to save a new
// recovery file, since the ones saved before open with the old passphrase only.
import { api, asUiError } from "../api";
import { errorLine, field, h } from "../dom";
import { t } from "../i18n";
import { saveRecoveryAs } from "./save-recovery";

/** Opens the dialog; resolves when it closes. */
export function changePassphrase(): Promise<void> {
  const old = h("input", { id: "old-pass", type: "password", autocomplete: "current-password" });
  const next = h("input", { id: "new-pass", type: "password", autocomplete: "new-password" });
  const again = h("input", { id: "new-pass2", type: "password", autocomplete: "new-password" });
  const err = errorLine();
  const cancel = h("button", { id: "change-pass-cancel", type: "button" }, t("cancel"));
  const form = h("form", { method: "dialog" },
    h("h2", {}, t("change-pass-heading")),
    h("p", {}, t("change-pass-text")),
    field(t("change-pass-current"), old), field(t("change-pass-new"), next), field(t("change-pass-again"), again), err,
    h("div", { class: "toolbar" }, cancel, h("button", { id: "change-pass-go", type: "submit", class: "primary" }, t("change-pass-go"))));
  const dialog = h("dialog", { id: "change-pass-dialog" }, form);
  document.body.append(dialog);
  return new Promise((resolve) => {
    const done = () => { dialog.close(); dialog.remove(); resolve(); };
    cancel.addEventListener("click", done);
    dialog.addEventListener("cancel", (ev) => { ev.preventDefault(); done(); });
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      err.textContent = "";
      if (next.value !== again.value) { err.textContent = t("change-pass-differ"); again.select(); return; }
      try {
        await api.changePassphrase(old.value, next.value);
      } catch (e) {
        const u = asUiError(e);
        err.textContent = u.message;
        (u.code === "wrong-passphrase" ? old : next).select();
        return;
      }
      const msg = h("p", { id: "change-pass-msg", role: "status" }, t("change-pass-changed"));
      const save = h("button", { id: "change-pass-save", type: "button", class: "primary" }, t("change-pass-save"));
      const close = h("button", { id: "change-pass-done", type: "button" }, t("done"));
      save.addEventListener("click", async () => {
        try {
          const path = await saveRecoveryAs();
          if (path) msg.textContent = t("change-pass-saved", { path });
        } catch (e) { msg.textContent = asUiError(e).message; }
      });
      close.addEventListener("click", done);
      form.replaceChildren(h("h2", {}, t("change-pass-done")), msg, h("div", { class: "toolbar" }, close, save));
      save.focus();
    });
    dialog.showModal();
    old.focus();
  });
}
