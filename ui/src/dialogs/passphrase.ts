// The passphrase dialog: unlocks the key the first time the writer publishes after a start.
import { api, asUiError, type Overview } from "../api";
import { errorLine, field, h } from "../dom";
import { t } from "../i18n";

/**
 * Asks for the passphrase (the first publish after the app starts). Resolves true once the key
 * is unlocked, false if the writer cancels.
 */
export function askPassphrase(o: Overview): Promise<boolean> {
  const pass = h("input", { id: "unlock-pass", type: "password", autocomplete: "current-password" });
  const err = errorLine();
  const cancel = h("button", { id: "unlock-cancel", type: "button" }, t("unlock-not-now"));
  const form = h("form", { method: "dialog", class: "card" },
    h("h2", {}, t("your-passphrase")),
    h("p", {}, t("unlock-text", { name: o.name })),
    field(t("passphrase"), pass), err,
    h("div", { class: "toolbar" }, cancel, h("button", { id: "unlock", type: "submit", class: "primary" }, t("unlock-go"))));
  const dialog = h("dialog", { id: "unlock-dialog" }, form);
  document.body.append(dialog);
  return new Promise((resolve) => {
    const done = (ok: boolean) => { dialog.close(); dialog.remove(); resolve(ok); };
    cancel.addEventListener("click", () => done(false));
    dialog.addEventListener("cancel", (ev) => { ev.preventDefault(); done(false); }); // Escape
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      err.textContent = "";
      try { await api.unlock(pass.value); done(true); } catch (e) { err.textContent = asUiError(e).message; pass.select(); }
    });
    dialog.showModal();
    pass.focus();
  });
}
