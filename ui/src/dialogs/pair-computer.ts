// Adding another computer: the passphrase, then a code (and its QR code) to give the other
// computer, which joins with it; this one waits until it has, or the writer closes the dialog.
import { listen } from "@tauri-apps/api/event";
import { api, asUiError, type UiError } from "../api";
import { errorLine, field, h } from "../dom";

/** Opens the dialog; `added` hears the new computer's name once it joined. */
export function pairComputer(added: (name: string) => void) {
  const pass = h("input", { id: "pair-pass", type: "password", autocomplete: "current-password" });
  const err = errorLine();
  const cancel = h("button", { id: "pair-cancel", type: "button" }, "Cancel");
  const go = h("button", { id: "pair-go", type: "submit", class: "primary" }, "Show the code");
  const form = h("form", { method: "dialog" },
    h("h2", {}, "Add another computer"),
    h("p", {}, "The other computer will write and publish this blog too, signing with a key of its own. You can remove it here at any time."),
    field("Your passphrase", pass), err, h("div", { class: "toolbar" }, cancel, go));
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
        const done = h("button", { id: "pair-done", type: "button", class: "primary" }, "Done");
        done.addEventListener("click", close);
        if (e.payload.name) {
          added(e.payload.name);
          form.replaceChildren(h("h2", {}, "Computer added"),
            h("p", { id: "pair-result", role: "status" }, `${e.payload.name} now writes for you, with a key of its own.`), h("div", { class: "toolbar" }, done));
        } else {
          form.replaceChildren(h("h2", {}, "Not added"),
            h("p", { id: "pair-result", role: "alert" }, e.payload.error?.message ?? "The other computer did not join."), h("div", { class: "toolbar" }, done));
        }
        done.focus();
      });
      const shown = await api.pairStart(pass.value);
      waiting = true;
      const code = h("textarea", { id: "pair-code", readonly: "", rows: "3", "aria-label": "Pairing code" });
      code.value = shown.code;
      const copy = h("button", { id: "pair-copy", type: "button" }, "Copy the code");
      copy.addEventListener("click", async () => {
        try { await navigator.clipboard.writeText(shown.code); copy.textContent = "Copied"; } catch { code.select(); }
      });
      const qr = shown.qr_svg
        ? [h("img", { id: "pair-qr", class: "qr", alt: "The pairing code as a QR code", src: `data:image/svg+xml;base64,${btoa(shown.qr_svg)}` })]
        : [];
      const stop = h("button", { id: "pair-stop", type: "button" }, "Stop");
      stop.addEventListener("click", close);
      form.replaceChildren(h("h2", {}, "Add another computer"),
        h("p", {}, "On the other computer, open Spokes and choose “I write this blog on another computer”, then give it this code:"),
        ...qr, code, h("div", { class: "toolbar" }, copy),
        h("p", { id: "pair-waiting", class: "muted", role: "status" }, "Waiting for the other computer (up to ten minutes)…"),
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
