// The Details dialog: a post's web address, tags and publication date (later = scheduled).
import { api, asUiError } from "../api";
import { h } from "../dom";
import { dateTime, t } from "../i18n";
import { permalinkBase } from "../format";
import type { Screen } from "../screens/screen";

/** The post's details: its web address, tags and publication date (later = scheduled). */
export async function showDetails(screen: Screen) {
  if (!screen.current) return;
  await screen.flush();
  const post = await api.getPost(screen.current.id);
  const pad = (n: number) => String(n).padStart(2, "0");
  const d = new Date(post.date);
  const local = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
  const fSlug = h("input", { id: "slug", value: post.slug, spellcheck: "false" });
  // Readers use the writer's spokes; the built-in one only when no spoke is chosen.
  const ov = await api.overview();
  const base = permalinkBase(ov.spokes, ov.blog_id, ov.local_blog_url);
  const permalink = h("p", { id: "permalink", class: "muted small" });
  const showLink = (slug: string) => { permalink.textContent = `${base}posts/${slug}`; };
  showLink(post.slug);
  fSlug.addEventListener("input", () => showLink(fSlug.value.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, "-").replace(/^-|-$/g, "")));
  const fTags = h("input", { id: "tags", value: post.tags.join(", "), placeholder: t("details-tags-example") });
  const fDate = h("input", { id: "post-date", type: "datetime-local", value: local });
  const msg = h("p", { id: "details-msg", class: "muted", role: "status" });
  const save = h("button", { id: "details-save", type: "button", class: "primary" }, t("save"));
  const close = h("button", { id: "details-close", type: "button" }, t("close"));
  const dialog = h("dialog", { id: "details-dialog" },
    h("h2", {}, t("details")),
    h("label", {}, t("details-address"), fSlug), permalink,
    h("label", {}, t("details-tags"), fTags),
    h("label", {}, t("details-date"), fDate),
    h("p", { class: "muted small" }, t("details-date-text")),
    msg, h("div", { class: "toolbar" }, close, save));
  close.addEventListener("click", () => { dialog.close(); dialog.remove(); });
  save.addEventListener("click", async () => {
    try {
      const when = new Date(fDate.value);
      const saved = await api.setPostDetails(post.id, {
        slug: fSlug.value, tags: fTags.value.split(","), date: isNaN(when.getTime()) ? undefined : when.toISOString(),
      });
      if (screen.current?.id === saved.id) { screen.current = { ...screen.current, slug: saved.slug, tags: saved.tags, date: saved.date }; screen.showPostActions(); }
      fSlug.value = saved.slug;
      showLink(saved.slug);
      msg.textContent = new Date(saved.date) > new Date()
        ? t("details-scheduled", { when: dateTime(saved.date) })
        : t("details-saved");
      await screen.refreshList();
    } catch (e) { msg.textContent = asUiError(e).message; }
  });
  document.body.append(dialog);
  dialog.showModal();
}
