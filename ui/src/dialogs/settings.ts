// The Settings dialog: the blog, the identity and its computers, the spokes, and copies to keep.
import { api, asUiError, type BlogSettings, type DomainSetup, type IdentityDetails, type Overview } from "../api";
import { field, h } from "../dom";
import { save as saveDialog } from "@tauri-apps/plugin-dialog";
import { saveRecoveryAs } from "./save-recovery";
import { removeComputer } from "./remove-computer";
import { showImport } from "./import";
import { changePassphrase } from "./change-passphrase";
import { pairComputer } from "./pair-computer";
import type { Screen } from "../screens/screen";

/** Settings: the blog, the identity and its computers, the spokes, and copies to keep. */
export async function showSettings(screen: Screen) {
  const [st, id, firstStatus] = await Promise.all([api.getSettings(), api.identityDetails(), api.publishStatus()]);
  let pub = firstStatus;
  const input = (idName: string, value: string, placeholder = "") => h("input", { id: idName, value, placeholder });
  const fTitle = input("set-title", st.title), fDesc = input("set-description", st.description, "One or two sentences under the title");
  const fLang = input("set-language", st.language, "en"), fHandle = input("set-handle", st.handle, "@ada");
  const msg = h("p", { id: "settings-msg", class: "muted", role: "status" });
  const save = h("button", { id: "settings-save", type: "button", class: "primary" }, "Save");
  const day = (t: number) => new Date(t * 1000).toLocaleDateString(undefined, { dateStyle: "medium" });
  const devices = h("ul", { id: "devices", class: "plain" });
  const showDevices = (details: IdentityDetails) => devices.replaceChildren(...details.devices.map((d) => {
    const name = d.name ?? (d.primary ? "Main key" : "Unnamed computer");
    const li = h("li", { "data-fingerprint": d.fingerprint }, name,
      d.fingerprint === details.this_device ? " (this computer)" : "",
      h("span", { class: "muted" }, d.revoked_at ? ` · ${d.lost ? "lost or stolen, removed" : "removed"} ${day(d.revoked_at)}` : ` · added ${day(d.created_at)}`));
    if (!d.revoked_at && !d.primary && d.fingerprint !== details.this_device) {
      const retire = h("button", { type: "button", class: "retire-device" }, "No longer used…");
      const lost = h("button", { type: "button", class: "lost-device" }, "Lost or stolen…");
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
      const when = (t: string) => new Date(t).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
      const health = !s?.last_attempt ? "not tried yet" : s.up_to_date ? "has everything you published" : s.last_error ? `not yet: ${s.last_error.message}` : "not yet";
      const last = s?.last_success ? ` (last reached ${when(s.last_success)})` : "";
      const remove = h("button", { type: "button", class: "remove-spoke", "data-endpoint": sp.endpoint }, "Remove");
      const url = sp.web ? `${sp.web}/b/${ov.blog_id}/` : null;
      const openBtn = h("button", { type: "button", class: "open-spoke", "data-endpoint": sp.endpoint, title: url ?? "" }, "Open in browser");
      openBtn.hidden = !url;
      if (url) openBtn.dataset.url = url;
      openBtn.addEventListener("click", () => { if (url) api.openInBrowser(url).catch((e) => { msg.textContent = asUiError(e).message; }); });
      remove.addEventListener("click", async () => {
        try { const o2 = await api.removeSpoke(sp.endpoint); screen.showLink(o2); showSpokes(o2); screen.overview = { ...screen.overview, spokes: o2.spokes }; await screen.refreshStatus(); }
        catch (e) { msg.textContent = asUiError(e).message; }
      });
      return h("li", {}, h("strong", {}, sp.name ?? "A spoke"), h("span", { class: "muted" }, ` · ${health}${last} `), openBtn, remove);
    }));
    if (!ov.spokes.length) spokeList.append(h("li", { class: "muted" }, "No spokes yet: your blog is on this computer only."));
  };
  showSpokes(screen.overview);
  // The blog's name: one readers can keep, served by whichever of the writer's spokes is up.
  const nameBox = h("div", { id: "blog-name" });
  const nameMsg = h("p", { id: "name-msg", class: "muted", role: "status" });
  const showName = (fqdn: string | null) => {
    if (fqdn) {
      const release = h("button", { id: "name-release", type: "button" }, "Give the name up…");
      // Asked on the page, not in a browser prompt: what giving it up means, then a plain choice.
      release.addEventListener("click", () => {
        const keepIt = h("button", { id: "name-keep", type: "button" }, "Keep it");
        const giveUp = h("button", { id: "name-release-confirm", type: "button" }, "Give it up");
        keepIt.addEventListener("click", () => showName(fqdn));
        giveUp.addEventListener("click", async () => {
          giveUp.disabled = true;
          nameMsg.textContent = "Giving the name up…";
          try { nameMsg.textContent = `${await api.releaseName()} is no longer your blog's name.`; showName(null); }
          catch (e) { nameMsg.textContent = asUiError(e).message; giveUp.disabled = false; }
        });
        nameBox.replaceChildren(h("p", {}, `Give up ${fqdn}? Readers who kept it will no longer reach your blog there, and another writer may take it.`), h("div", { class: "toolbar" }, keepIt, giveUp));
        keepIt.focus();
      });
      const domainBox = h("div", { id: "own-domain" });
      nameBox.replaceChildren(h("p", {}, "Readers find your blog at ", h("strong", { id: "name-fqdn" }, fqdn), ", on whichever of your spokes is up. "), h("div", { class: "toolbar" }, release), domainBox);
      api.getDomain().then((d) => showDomain(domainBox, d)).catch(() => showDomain(domainBox, null));
      return;
    }
    const fName = input("name-input", "", "maria");
    const claim = h("button", { id: "name-claim", type: "button" }, "Claim this name");
    const doClaim = async () => {
      nameMsg.textContent = "Asking your spokes…";
      try {
        const r = await api.claimName(fName.value);
        if (r.yours) { nameMsg.textContent = "The name is yours now."; showName(r.fqdn); return; }
        nameMsg.replaceChildren(`${r.fqdn} is already another blog's name.`, ...(r.alternatives.length ? [" These are free: ", ...r.alternatives.flatMap((a, i) => {
          const pick = h("button", { type: "button", class: "link name-alternative" }, a);
          pick.addEventListener("click", () => { fName.value = a; fName.focus(); });
          return i ? [", ", pick] : [pick];
        })] : []));
      } catch (e) { nameMsg.textContent = asUiError(e).message; }
    };
    claim.addEventListener("click", doClaim);
    fName.addEventListener("keydown", (ev) => { if (ev.key === "Enter") { ev.preventDefault(); doClaim(); } });
    nameBox.replaceChildren(h("p", { class: "muted" }, "A name readers can keep: it reaches your blog on whichever of your spokes is up. The first blog to claim a name gets it."), field("Name", fName), h("div", { class: "toolbar" }, claim));
  };
  // A domain the writer owns: the two records to add where its DNS is kept, to copy as they are.
  const showDomain = (box: HTMLElement, d: DomainSetup | null) => {
    if (d) {
      // As DNS providers ask for them: type, name, value.
      const row = (type: string, name: string, value: string) => h("tr", {}, h("td", {}, type), h("td", {}, name), h("td", { class: "value" }, value));
      const records = h("table", { id: "domain-records", class: "records" },
        h("thead", {}, h("tr", {}, h("th", {}, "Type"), h("th", {}, "Name"), h("th", {}, "Value"))),
        h("tbody", {}, row("CNAME", d.domain, `${d.cname}.`), row("TXT", d.proof_name, d.proof.map((p) => `"${p}"`).join(" "))));
      const stop = h("button", { id: "domain-remove", type: "button" }, "Stop using this domain");
      stop.addEventListener("click", async () => {
        try { await api.removeDomain(); nameMsg.textContent = `Your spokes no longer serve your blog at ${d.domain}.`; showDomain(box, null); }
        catch (e) { nameMsg.textContent = asUiError(e).message; }
      });
      box.replaceChildren(h("p", {}, "Also at ", h("strong", { id: "domain-name" }, d.domain), " once these two records are where that domain's addresses are kept (your domain provider's DNS settings):"),
        records, h("div", { class: "toolbar" }, stop));
      return;
    }
    const fDomain = input("domain-input", "", "blog.example.com");
    const use = h("button", { id: "domain-use", type: "button" }, "Use this domain");
    const doUse = async () => {
      nameMsg.textContent = "Signing and publishing…";
      try { const setup = await api.setDomain(fDomain.value); nameMsg.textContent = ""; showDomain(box, setup); }
      catch (e) { nameMsg.textContent = asUiError(e).message; }
    };
    use.addEventListener("click", doUse);
    fDomain.addEventListener("keydown", (ev) => { if (ev.key === "Enter") { ev.preventDefault(); doUse(); } });
    box.replaceChildren(h("p", { class: "muted" }, "Own a domain? Your blog can be read there too."), field("Your domain", fDomain), h("div", { class: "toolbar" }, use));
  };
  showName(st.name ? `${st.name.name}.${st.name.zone}` : null);
  const keep = h("p", { id: "keep-msg", class: "muted", role: "status" });
  const recoveryBtn = h("button", { id: "save-recovery", type: "button" }, "Save the recovery file again");
  const exportBtn = h("button", { id: "export", type: "button" }, "Export everything");
  const pairBtn = h("button", { id: "pair-computer", type: "button" }, "Add another computer…");
  pairBtn.addEventListener("click", () => pairComputer(async () => showDevices(await api.identityDetails())));
  const passBtn = h("button", { id: "change-pass", type: "button" }, "Change passphrase…");
  passBtn.addEventListener("click", () => void changePassphrase());
  const siteBtn = h("button", { id: "export-site", type: "button" }, "Export a website…");
  siteBtn.addEventListener("click", async () => {
    try {
      // Named like a file in the save dialog: the website is a new folder of that name.
      const docs = (await api.suggestedPaths()).export.replace(/[^\\/]*$/, "");
      const path = await saveDialog({ title: "Export a website", defaultPath: `${docs}website` });
      if (!path) return;
      keep.textContent = "Writing the website…";
      const n = await api.exportSite(path);
      keep.textContent = `Wrote your website (${n.toLocaleString()} files) to ${path}. Open index.html there, or upload the folder to any web host.`;
    } catch (e) { keep.textContent = asUiError(e).message; }
  });
  const importBtn = h("button", { id: "import", type: "button" }, "Bring in posts from another blog…");
  importBtn.addEventListener("click", () => { dialog.close(); dialog.remove(); showImport(screen); });
  // Both ask where, in the desktop's own save dialog, starting in the Documents folder.
  recoveryBtn.addEventListener("click", async () => {
    try {
      const path = await saveRecoveryAs();
      if (path) keep.textContent = `Saved the recovery file to ${path}`;
    } catch (e) { keep.textContent = asUiError(e).message; }
  });
  exportBtn.addEventListener("click", async () => {
    try {
      const path = await saveDialog({ title: "Export your blog", defaultPath: (await api.suggestedPaths()).export, filters: [{ name: "Spokes export", extensions: ["tar.gz"] }] });
      if (!path) return;
      keep.textContent = "Exporting…";
      keep.textContent = `Exported your blog, its history and signatures to ${await api.exportArchive(path)}`;
    } catch (e) { keep.textContent = asUiError(e).message; }
  });
  const close = h("button", { id: "settings-close", type: "button" }, "Close");
  const dialog = h("dialog", { id: "settings-dialog", class: "wide" },
    h("div", { class: "dialog-head" }, h("h2", {}, "Settings"), close),
    h("h3", {}, "Your blog"),
    field("Title", fTitle), field("Description", fDesc), field("Language", fLang), field("Handle", fHandle),
    h("div", { class: "toolbar" }, msg, save),
    h("h3", {}, "Web address"), nameBox, nameMsg,
    h("h3", {}, "You"),
    h("p", {}, id.name),
    // The key's fingerprint is for people who check keys: out of the way until asked for.
    h("details", { class: "advanced" }, h("summary", {}, "Advanced"),
      h("p", { class: "muted" }, "Your key's fingerprint, for readers who check signatures: ", h("code", { id: "settings-fingerprint" }, id.fingerprint))),
    h("div", { class: "toolbar" }, passBtn),
    h("p", { class: "muted" }, "Computers that sign for you:"), devices, h("div", { class: "toolbar" }, pairBtn),
    h("h3", {}, "Spokes"), spokeList,
    h("h3", {}, "Copies to keep"), h("div", { class: "toolbar" }, recoveryBtn, exportBtn, siteBtn), keep,
    h("h3", {}, "Posts from another blog"),
    h("p", { class: "muted" }, "From WordPress, Ghost, Jekyll, Hugo or Zola, as drafts."), h("div", { class: "toolbar" }, importBtn));
  save.addEventListener("click", async () => {
    const next: BlogSettings = { title: fTitle.value.trim(), description: fDesc.value.trim(), language: fLang.value.trim() || "en", handle: fHandle.value.trim() };
    try {
      await api.saveSettings(next);
      msg.textContent = "Saved. Readers see it after your next publish.";
      const heading = document.querySelector(".sidebar h2");
      if (heading) heading.textContent = next.title;
    } catch (e) { msg.textContent = asUiError(e).message; }
  });
  close.addEventListener("click", () => { dialog.close(); dialog.remove(); });
  document.body.append(dialog);
  dialog.showModal();
  fTitle.focus();
}
