// Markdown formatting for the editor's toolbar and shortcuts, and the word count. Pure
// functions over (text, selection), so they are tested without a DOM; the editor applies the
// result as one edit, which the splice tracker then sends to Rust like typing.
import { dateTime, t } from "./i18n";

export interface Edit { text: string; start: number; end: number }

/**
 * Wraps the selection in `marker` (for example `**`), or removes it when the selection is
 * already wrapped. With nothing selected, inserts the pair and puts the caret between.
 */
export function wrap(text: string, start: number, end: number, marker: string): Edit {
  const m = marker.length;
  if (text.slice(start - m, start) === marker && text.slice(end, end + m) === marker) {
    return { text: text.slice(0, start - m) + text.slice(start, end) + text.slice(end + m), start: start - m, end: end - m };
  }
  return { text: text.slice(0, start) + marker + text.slice(start, end) + marker + text.slice(end), start: start + m, end: end + m };
}

/** The start of the line holding position `i`. */
function lineStart(text: string, i: number): number {
  return text.lastIndexOf("\n", i - 1) + 1;
}

/**
 * Toggles `prefix` (for example `> `, `- `, `## `) at the start of every line the selection
 * touches: removed if all of them have it, added to each otherwise.
 */
export function prefixLines(text: string, start: number, end: number, prefix: string): Edit {
  const from = lineStart(text, start);
  const to = end > start && text[end - 1] === "\n" ? end - 1 : end;
  const lineEnd = text.indexOf("\n", to);
  const stop = lineEnd === -1 ? text.length : lineEnd;
  const lines = text.slice(from, stop).split("\n");
  const all = lines.every((l) => l.startsWith(prefix));
  const changed = lines.map((l) => (all ? l.slice(prefix.length) : prefix + l));
  const delta = all ? -prefix.length : prefix.length;
  const block = changed.join("\n");
  return {
    text: text.slice(0, from) + block + text.slice(stop),
    start: Math.max(from, start + delta),
    end: end + delta * lines.length,
  };
}

/** A Markdown link around the selection (its text), with the URL part selected to type over. */
export function link(text: string, start: number, end: number): Edit {
  const label = text.slice(start, end) || t("format-link-text");
  const url = "https://";
  const inserted = `[${label}](${url})`;
  const urlStart = start + label.length + 3;
  return { text: text.slice(0, start) + inserted + text.slice(end), start: urlStart, end: urlStart + url.length };
}

/** Inline code for a selection within one line; a fenced block for several lines. */
export function code(text: string, start: number, end: number): Edit {
  const sel = text.slice(start, end);
  if (!sel.includes("\n")) return wrap(text, start, end, "`");
  const block = "```\n" + sel.replace(/\n$/, "") + "\n```\n";
  return { text: text.slice(0, start) + block + text.slice(end), start: start + 4, end: start + 4 + sel.replace(/\n$/, "").length };
}

/** Words in `text` (Unicode word segmentation where the webview has it). */
export function countWords(text: string): number {
  // A picture's or a link's address is not reading: only its description or words count.
  text = text.replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1");
  const Seg = (Intl as unknown as { Segmenter?: new (l?: string, o?: { granularity: string }) => { segment(t: string): Iterable<{ isWordLike?: boolean }> } }).Segmenter;
  if (Seg) {
    let n = 0;
    for (const s of new Seg(undefined, { granularity: "word" }).segment(text)) if (s.isWordLike) n++;
    return n;
  }
  return text.split(/\s+/).filter(Boolean).length;
}

/**
 * Where a post's web address starts, for the permalink preview: the first chosen spoke whose
 * reader site is known (`{web}/b/{blogId}/`), else the built-in spoke's blog address when no
 * spoke is chosen, else a placeholder, "(your spoke)/b/{blogId}/".
 */
export function permalinkBase(spokes: { web?: string | null }[], blogId: string, localBlogUrl: string | null): string {
  const web = spokes.find((s) => s.web)?.web;
  if (web) return `${web.replace(/\/+$/, "")}/b/${blogId}/`;
  if (spokes.length === 0 && localBlogUrl) return localBlogUrl.endsWith("/") ? localBlogUrl : `${localBlogUrl}/`;
  return `${t("format-your-spoke")}/b/${blogId}/`;
}

/** What the history needs of a revision: when it was signed (Unix seconds), on which device,
 * and the post's text then. */
export interface RevisionLike { signed_at: number; device?: string | null; post: { body: string } }

/**
 * One line per revision for the history list, in the same order: when it was signed, on which
 * device, and how many words the post had, as "Nov 25, 2026, 3:07 PM · on laptop · 28 words".
 * Revisions signed within the same minute show seconds too, so no two lines look alike for
 * that reason. Dates and numbers in the app's locale (i18n.ts).
 */
export function revisionLabels(revisions: RevisionLike[]): string[] {
  const minute = (r: RevisionLike) => Math.floor(r.signed_at / 60);
  const perMinute = new Map<number, number>();
  for (const r of revisions) perMinute.set(minute(r), (perMinute.get(minute(r)) ?? 0) + 1);
  return revisions.map((r) => {
    const seconds = (perMinute.get(minute(r)) ?? 0) > 1;
    const when = dateTime(r.signed_at * 1000, seconds);
    return [when, r.device ? t("history-on-device", { device: r.device }) : "", t("word-count", { n: countWords(r.post.body) })].filter(Boolean).join(" · ");
  });
}

/** "1,234 words · 6 min read" (reading at 230 words a minute), in the app's language. */
export function wordCountLine(text: string): string {
  const n = countWords(text);
  const minutes = Math.max(1, Math.ceil(n / 230));
  return `${t("word-count", { n })} · ${t("reading-time", { minutes })}`;
}

/**
 * What the writer is told after unpublishing `title`: plainly what happened to the words on
 * the spokes (deleted when the blog is kept as one document per post, otherwise still in the
 * history the spokes keep), that a copy someone already saved cannot be recalled, and that
 * the post stays on this computer.
 */
export function unpublishedNotice(title: string, documentsPerPost: boolean): string {
  const name = title || t("untitled");
  return t(documentsPerPost ? "unpublished-notice-deleted" : "unpublished-notice-kept", { title: name });
}
