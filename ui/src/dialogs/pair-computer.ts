// Adding another computer: the passphrase, then a code (and its QR code) to give the other
// computer, which joins with it; this one waits until it has, or the writer closes the dialog.
import { listen } from "@tauri-apps/api/event";
import { api, asUiError, type UiError } from "../api";
import { errorLine, field, h } from "../dom";
import { problemText, t } from "../i18n";

/** Opens the dialog; `added` hears the new computer's name once it joined. */
export function pairComputer(added: (name: string) => void) {
  const pass = h("input", { id: "pair-pass", type: "password", autocomplete: "current-password" });
  const err = errorLine();
  const cancel = h("button", { id: "pair-cancel", type: "button" }, t("cancel"));
  const go = h("button", { id: "pair-go", type: "submit", class: "primary" }, t("pair-show"));
  const form = h("form", { method: "dialog" },
    h("h2", {}, t("pair-heading")),
    h("p", {}, t("pair-text")),
    field(t("your-passphrase"), pass), err, h("div", { class: "toolbar" }, cancel, go));
  const dialog = h("dialog", { id: "pair-dialog" }, form);
  let stopListening: (() => void) | null = null;
  let waiting = false;
  const close = () => {
    stopListening?.();
    if (waiting) void api.pairCancel();
    dialog.close(); dialog.remove();
  };
  cancel.addEventListener("click", close);
  dialog.addEventListener("cancel", (ev) => { ev.preventDefault(); close(); });
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    err.textContent = "";
    go.disabled = true;
    try {
      stopListening = await listen<{ name?: string; error?: UiError }>("paired", (e) => {
        waiting = false;
        const done = h("button", { id: "pair-done", type: "button", class: "primary" }, t("done"));
        done.addEventListener("click", close);
        if (e.payload.name) {
          added(e.payload.name);
          form.replaceChildren(h("h2", {}, t("pair-added")),
            h("p", { id: "pair-result", role: "status" }, t("pair-added-text", { name: e.payload.name })), h("div", { class: "toolbar" }, done));
        } else {
          form.replaceChildren(h("h2", {}, t("pair-not-added")),
            h("p", { id: "pair-result", role: "alert" }, e.payload.error ? problemText(e.payload.error.code, e.payload.error.message, e.payload.error.detail) : t("pair-did-not-join")), h("div", { class: "toolbar" }, done));
        }
        done.focus();
      });
      const shown = await api.pairStart(pass.value);
      waiting = true;
      const code = h("textarea", { id: "pair-code", readonly: "", rows: "3", "aria-label": t("pair-code-label") });
      code.value = shown.code;
      const copy = h("button", { id: "pair-copy", type: "button" }, t("pair-copy"));
      copy.addEventListener("click", async () => {
        try { await navigator.clipboard.writeText(shown.code); copy.textContent = t("pair-copied"); } catch { code.select(); }
      });
      const qr = shown.qr_svg
        ? [h("img", { id: "pair-qr", class: "qr", alt: t("pair-qr"), src: `data:image/svg+xml;base64,${btoa(shown.qr_svg)}` })]
        : [];
      const stop = h("button", { id: "pair-stop", type: "button" }, t("pair-stop"));
      stop.addEventListener("click", close);
      form.replaceChildren(h("h2", {}, t("pair-heading")),
        h("p", {}, t("pair-instructions")),
        ...qr, code, h("div", { class: "toolbar" }, copy),
        h("p", { id: "pair-waiting", class: "muted", role: "status" }, t("pair-waiting")),
        h("div", { class: "toolbar" }, stop));
      copy.focus();
    } catch (e) {
      stopListening?.();
      err.textContent = asUiError(e).message;
      go.disabled = false;
      pass.select();
    }
  });
  document.body.append(dialog);
  dialog.showModal();
  pass.focus();
}
