// The Settings dialog: the blog, the identity and its computers, the spokes, and copies to keep.
import { api, asUiError, type BlogSettings, type DomainSetup, type IdentityDetails, type Overview } from "../api";
import { blogLanguageSelect, field, h, languageName, languageSelect } from "../dom";
import { dateTime, mediumDate, problemText, t } from "../i18n";
import { save as saveDialog } from "@tauri-apps/plugin-dialog";
import { saveRecoveryAs } from "./save-recovery";
import { removeComputer } from "./remove-computer";
import { showImport } from "./import";
import { changePassphrase } from "./change-passphrase";
import { pairComputer } from "./pair-computer";
import { updatesSection } from "./updates";
import type { Screen } from "../screens/screen";

/**
 * Settings: the blog, the identity and its computers, the spokes, and copies to keep. With
 * `at = "updates"` it opens at the app's new versions, the first of their buttons focused;
 * with `at = "spokes"`, at the field for an invitation to another spoke.
 */
export async function showSettings(screen: Screen, at: "updates" | "spokes" | null = null) {
  const [st, id, firstStatus] = await Promise.all([api.getSettings(), api.identityDetails(), api.publishStatus()]);
  let pub = firstStatus;
  const input = (idName: string, value: string, placeholder = "") => h("input", { id: idName, value, placeholder });
  const fTitle = input("set-title", st.title), fDesc = input("set-description", st.description, t("settings-description-placeholder"));
  const fLang = blogLanguageSelect("set-language", st.language), fHandle = input("set-handle", st.handle, "@ada");
  const msg = h("p", { id: "settings-msg", class: "muted", role: "status" });
  // Spell checking needs a dictionary of the blog's language on this computer: said when none.
  const spellNote = h("p", { id: "spelling-note", class: "muted small", role: "status" });
  const showSpelling = (language: string, taken: string[]) => {
    spellNote.textContent = taken.length ? "" : t("spelling-none", { language: languageName(language) });
    spellNote.hidden = taken.length > 0; // no empty line in the form when all is well
  };
  spellNote.hidden = true;
  if (document.body.dataset.spelling === "") showSpelling(st.language, []);
  const save = h("button", { id: "settings-save", type: "button", class: "primary" }, t("save"));
  const day = (s: number) => mediumDate(s * 1000);
  const devices = h("ul", { id: "devices", class: "plain" });
  const showDevices = (details: IdentityDetails) => devices.replaceChildren(...details.devices.map((d) => {
    const name = d.name ?? (d.primary ? t("device-main-key") : t("device-unnamed"));
    const li = h("li", { "data-fingerprint": d.fingerprint }, name,
      d.fingerprint === details.this_device ? ` ${t("device-this")}` : "",
      h("span", { class: "muted" }, ` · ${d.revoked_at ? t(d.lost ? "device-removed-lost" : "device-removed", { day: day(d.revoked_at) }) : t("device-added", { day: day(d.created_at) })}`));
    if (!d.revoked_at && !d.primary && d.fingerprint !== details.this_device) {
      const retire = h("button", { type: "button", class: "retire-device" }, t("device-retire"));
      const lost = h("button", { type: "button", class: "lost-device" }, t("device-lost"));
      // Removing a computer tells the spokes at once: their lines below say how that went.
      const removed = (next: IdentityDetails) => {
        showDevices(next);
        api.publishStatus().then((p) => { pub = p; showSpokes(screen.overview); }).catch(() => {});
      };
      retire.addEventListener("click", () => removeComputer(d.fingerprint, name, false, removed));
      lost.addEventListener("click", () => removeComputer(d.fingerprint, name, true, removed));
      li.append(" ", retire, " ", lost);
    }
    return li;
  }));
  showDevices(id);
  const spokeList = h("ul", { id: "spoke-list", class: "plain" });
  const showSpokes = (ov: Overview) => {
    spokeList.replaceChildren(...ov.spokes.map((sp) => {
      const s = pub.spokes.find((x) => x.endpoint === sp.endpoint);
      const health = !s?.last_attempt ? t("spoke-not-tried") : s.up_to_date ? t("spoke-up-to-date")
        : s.last_error ? t("spoke-not-yet-because", { reason: problemText(s.last_error.code, s.last_error.message, s.last_error.detail) }) : t("spoke-not-yet");
      const last = s?.last_success ? ` ${t("spoke-last-reached", { when: dateTime(s.last_success) })}` : "";
      const remove = h("button", { type: "button", class: "remove-spoke", "data-endpoint": sp.endpoint }, t("spoke-remove"));
      const url = sp.web ? `${sp.web}/b/${ov.blog_id}/` : null;
      const openBtn = h("button", { type: "button", class: "open-spoke", "data-endpoint": sp.endpoint, title: url ?? "" }, t("spoke-open"));
      openBtn.hidden = !url;
      if (url) openBtn.dataset.url = url;
      openBtn.addEventListener("click", () => { if (url) api.openInBrowser(url).catch((e) => { msg.textContent = asUiError(e).message; }); });
      remove.addEventListener("click", async () => {
        try { const o2 = await api.removeSpoke(sp.endpoint); screen.showLink(o2); showSpokes(o2); screen.overview = { ...screen.overview, spokes: o2.spokes }; await screen.refreshStatus(); }
        catch (e) { msg.textContent = asUiError(e).message; }
      });
      return h("li", {}, h("strong", {}, sp.name ?? t("a-spoke")), h("span", { class: "muted" }, ` · ${health}${last} `), openBtn, remove);
    }));
    if (!ov.spokes.length) spokeList.append(h("li", { class: "muted" }, t("spoke-none")));
  };
  showSpokes(screen.overview);
  // Another spoke, from the invitation its operator sent (the text, or the link's address).
  const ticket = h("input", { id: "ticket", placeholder: t("invite-placeholder"), "aria-label": t("invite-label") });
  const addSpoke = h("button", { id: "add-spoke", type: "button" }, t("add-spoke"));
  const addMsg = h("p", { id: "add-spoke-msg", class: "muted", role: "status" });
  const doAdd = async () => {
    addMsg.textContent = "";
    try {
      const o2 = await api.addSpoke(ticket.value);
      ticket.value = "";
      pub = await api.publishStatus();
      showSpokes(o2);
      addMsg.textContent = t("spoke-added");
      await screen.spokeAdded(o2);
    } catch (e) { addMsg.textContent = asUiError(e).message; }
  };
  addSpoke.addEventListener("click", () => void doAdd());
  ticket.addEventListener("keydown", (ev) => { if (ev.key === "Enter") { ev.preventDefault(); void doAdd(); } });
  // The blog's name: one readers can keep, served by whichever of the writer's spokes is up.
  const nameBox = h("div", { id: "blog-name" });
  const nameMsg = h("p", { id: "name-msg", class: "muted", role: "status" });
  const showName = (fqdn: string | null) => {
    if (fqdn) {
      const release = h("button", { id: "name-release", type: "button" }, t("name-release"));
      // Asked on the page, not in a browser prompt: what giving it up means, then a plain choice.
      release.addEventListener("click", () => {
        const keepIt = h("button", { id: "name-keep", type: "button" }, t("name-keep"));
        const giveUp = h("button", { id: "name-release-confirm", type: "button" }, t("name-give-up"));
        keepIt.addEventListener("click", () => showName(fqdn));
        giveUp.addEventListener("click", async () => {
          giveUp.disabled = true;
          nameMsg.textContent = t("name-releasing");
          try { nameMsg.textContent = t("name-released", { name: await api.releaseName() }); showName(null); }
          catch (e) { nameMsg.textContent = asUiError(e).message; giveUp.disabled = false; }
        });
        nameBox.replaceChildren(h("p", {}, t("name-release-question", { name: fqdn })), h("div", { class: "toolbar" }, keepIt, giveUp));
        keepIt.focus();
      });
      const domainBox = h("div", { id: "own-domain" });
      nameBox.replaceChildren(h("p", {}, t("name-at-before"), " ", h("strong", { id: "name-fqdn" }, fqdn), t("name-at-after"), " "), h("div", { class: "toolbar" }, release), domainBox);
      api.getDomain().then((d) => showDomain(domainBox, d)).catch(() => showDomain(domainBox, null));
      return;
    }
    const fName = input("name-input", "", "maria");
    const claim = h("button", { id: "name-claim", type: "button" }, t("name-claim"));
    const doClaim = async () => {
      nameMsg.textContent = t("name-asking");
      try {
        const r = await api.claimName(fName.value);
        if (r.yours) { nameMsg.textContent = t("name-yours"); showName(r.fqdn); return; }
        nameMsg.replaceChildren(t("name-taken", { name: r.fqdn }), ...(r.alternatives.length ? [` ${t("name-free")} `, ...r.alternatives.flatMap((a, i) => {
          const pick = h("button", { type: "button", class: "link name-alternative" }, a);
          pick.addEventListener("click", () => { fName.value = a; fName.focus(); });
          return i ? [", ", pick] : [pick];
        })] : []));
      } catch (e) { nameMsg.textContent = asUiError(e).message; }
    };
    claim.addEventListener("click", doClaim);
    fName.addEventListener("keydown", (ev) => { if (ev.key === "Enter") { ev.preventDefault(); doClaim(); } });
    nameBox.replaceChildren(h("p", { class: "muted" }, t("name-text")), field(t("name-label"), fName), h("div", { class: "toolbar" }, claim));
  };
  // A domain the writer owns: the two records to add where its DNS is kept, to copy as they are.
  const showDomain = (box: HTMLElement, d: DomainSetup | null) => {
    if (d) {
      // As DNS providers ask for them: type, name, value.
      const row = (type: string, name: string, value: string) => h("tr", {}, h("td", {}, type), h("td", {}, name), h("td", { class: "value" }, value));
      const records = h("table", { id: "domain-records", class: "records" },
        h("thead", {}, h("tr", {}, h("th", {}, t("record-type")), h("th", {}, t("record-name")), h("th", {}, t("record-value")))),
        h("tbody", {}, row("CNAME", d.domain, `${d.cname}.`), row("TXT", d.proof_name, d.proof.map((p) => `"${p}"`).join(" "))));
      const stop = h("button", { id: "domain-remove", type: "button" }, t("domain-remove"));
      stop.addEventListener("click", async () => {
        try { await api.removeDomain(); nameMsg.textContent = t("domain-removed", { domain: d.domain }); showDomain(box, null); }
        catch (e) { nameMsg.textContent = asUiError(e).message; }
      });
      box.replaceChildren(h("p", {}, t("domain-at-before"), " ", h("strong", { id: "domain-name" }, d.domain), " ", t("domain-at-after")),
        records, h("div", { class: "toolbar" }, stop));
      return;
    }
    const fDomain = input("domain-input", "", "blog.example.com");
    const use = h("button", { id: "domain-use", type: "button" }, t("domain-use"));
    const doUse = async () => {
      nameMsg.textContent = t("domain-signing");
      try { const setup = await api.setDomain(fDomain.value); nameMsg.textContent = ""; showDomain(box, setup); }
      catch (e) { nameMsg.textContent = asUiError(e).message; }
    };
    use.addEventListener("click", doUse);
    fDomain.addEventListener("keydown", (ev) => { if (ev.key === "Enter") { ev.preventDefault(); doUse(); } });
    box.replaceChildren(h("p", { class: "muted" }, t("domain-text")), field(t("domain-label"), fDomain), h("div", { class: "toolbar" }, use));
  };
  showName(st.name ? `${st.name.name}.${st.name.zone}` : null);
  const keep = h("p", { id: "keep-msg", class: "muted", role: "status" });
  const recoveryBtn = h("button", { id: "save-recovery", type: "button" }, t("settings-save-recovery"));
  const exportBtn = h("button", { id: "export", type: "button" }, t("settings-export"));
  const pairBtn = h("button", { id: "pair-computer", type: "button" }, t("settings-pair"));
  pairBtn.addEventListener("click", () => pairComputer(async () => showDevices(await api.identityDetails())));
  const passBtn = h("button", { id: "change-pass", type: "button" }, t("settings-change-pass"));
  passBtn.addEventListener("click", () => void changePassphrase());
  const siteBtn = h("button", { id: "export-site", type: "button" }, t("settings-export-site"));
  siteBtn.addEventListener("click", async () => {
    try {
      // Named like a file in the save dialog: the website is a new folder of that name.
      const docs = (await api.suggestedPaths()).export.replace(/[^\\/]*$/, "");
      const path = await saveDialog({ title: t("site-dialog-title"), defaultPath: `${docs}${t("site-folder")}` });
      if (!path) return;
      keep.textContent = t("site-writing");
      const n = await api.exportSite(path);
      keep.textContent = t("site-written", { n, path });
    } catch (e) { keep.textContent = asUiError(e).message; }
  });
  const importBtn = h("button", { id: "import", type: "button" }, t("settings-import"));
  importBtn.addEventListener("click", () => { dialog.close(); dialog.remove(); showImport(screen); });
  // Both ask where, in the desktop's own save dialog, starting in the Documents folder.
  recoveryBtn.addEventListener("click", async () => {
    try {
      const path = await saveRecoveryAs();
      if (path) keep.textContent = t("settings-recovery-saved", { path });
    } catch (e) { keep.textContent = asUiError(e).message; }
  });
  exportBtn.addEventListener("click", async () => {
    try {
      const path = await saveDialog({ title: t("export-dialog-title"), defaultPath: (await api.suggestedPaths()).export, filters: [{ name: t("export-filter"), extensions: ["tar.gz"] }] });
      if (!path) return;
      keep.textContent = t("exporting");
      keep.textContent = t("exported", { path: await api.exportArchive(path) });
    } catch (e) { keep.textContent = asUiError(e).message; }
  });
  const close = h("button", { id: "settings-close", type: "button" }, t("close"));
  const dialog = h("dialog", { id: "settings-dialog", class: "wide" },
    h("div", { class: "dialog-head" }, h("h2", {}, t("settings")), close),
    h("h3", {}, t("settings-blog")),
    field(t("settings-title"), fTitle), field(t("settings-description"), fDesc), field(t("settings-language"), fLang), spellNote, field(t("settings-handle"), fHandle),
    h("div", { class: "toolbar" }, msg, save),
    h("h3", {}, t("settings-web-address")), nameBox, nameMsg,
    h("h3", {}, t("settings-you")),
    h("p", {}, id.name),
    // The key's fingerprint is for people who check keys: out of the way until asked for.
    h("details", { class: "advanced" }, h("summary", {}, t("settings-advanced")),
      h("p", { class: "muted" }, t("settings-fingerprint"), " ", h("code", { id: "settings-fingerprint" }, id.fingerprint))),
    h("div", { class: "toolbar" }, passBtn),
    h("p", { class: "muted" }, t("settings-devices")), devices, h("div", { class: "toolbar" }, pairBtn),
    h("h3", {}, t("spokes-heading")), spokeList,
    h("div", { class: "toolbar add-spoke" }, ticket, addSpoke), addMsg,
    h("h3", {}, t("settings-copies")), h("div", { class: "toolbar" }, recoveryBtn, exportBtn, siteBtn), keep,
    h("h3", {}, t("settings-import-heading")),
    h("p", { class: "muted" }, t("settings-import-text")), h("div", { class: "toolbar" }, importBtn),
    h("h3", {}, t("settings-this-computer")), languageSelect("app-language", async () => { await screen.flush(); }),
    h("h4", {}, t("settings-updates")), updatesSection(() => screen.flush()));
  save.addEventListener("click", async () => {
    const next: BlogSettings = { title: fTitle.value.trim(), description: fDesc.value.trim(), language: fLang.value || "en", handle: fHandle.value.trim() };
    try {
      await api.saveSettings(next);
      msg.textContent = t("settings-saved");
      void screen.spellIn(next.language).then((taken) => showSpelling(next.language, taken));
      void screen.refreshStatus(); // new settings wait for a publish: Publish is offered again
      const heading = document.querySelector(".sidebar h2");
      if (heading) heading.textContent = next.title;
    } catch (e) { msg.textContent = asUiError(e).message; }
  });
  close.addEventListener("click", () => { dialog.close(); dialog.remove(); });
  document.body.append(dialog);
  dialog.showModal();
  const updateButton = at === "updates" ? (dialog.querySelector<HTMLButtonElement>("#install-update:not([hidden])") ?? dialog.querySelector<HTMLButtonElement>("#check-update:not([hidden])")) : null;
  const first = updateButton ?? (at === "spokes" ? ticket : null);
  if (first) { first.focus(); first.scrollIntoView({ block: "center" }); } else fTitle.focus();
}
