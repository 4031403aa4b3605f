// The live preview, block by block: the Markdown is cut into top-level blocks at blank lines,
// and a keystroke re-renders only the blocks it changed (in Rust, the same renderer the spokes
// use) and replaces only their elements. A 10,000-word post then costs one paragraph per
// keystroke, not the whole post.
//
// Where a block's meaning depends on the rest of the text (reference links, footnotes, raw
// HTML blocks), the whole text is rendered as one block, exactly as readers will see it.

/** One rendered block: its Markdown and its element in the preview. */
interface Block { src: string; el: HTMLElement }

/** Whether the text needs to be rendered whole (its blocks are not independent). */
export function needsWhole(md: string): boolean {
  return /^ {0,3}\[[^\]\n]+\]:/m.test(md) || /^ {0,3}</m.test(md);
}

/**
 * Cuts Markdown into top-level blocks at blank lines. A blank line inside a fenced code block,
 * or followed by an indented line (a list item's or code block's continuation), does not cut.
 * Joining the blocks with "\n\n" gives back the text, up to runs of blank lines.
 */
export function splitBlocks(md: string): string[] {
  const lines = md.split("\n");
  const blocks: string[] = [];
  let cur: string[] = [];
  let fence: string | null = null;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const m = /^ {0,3}(`{3,}|~{3,})/.exec(line);
    if (m) {
      if (fence === null) fence = m[1][0].repeat(m[1].length);
      else if (line.trim().startsWith(fence) && line.trim().replace(/[`~]/g, "") === "") fence = null;
    }
    const blank = line.trim() === "";
    if (blank && fence === null) {
      const next = lines.slice(i + 1).find((l) => l.trim() !== "");
      const continues = next !== undefined && /^(\t| {2,})/.test(next) && cur.length > 0;
      if (!continues) {
        if (cur.length) blocks.push(cur.join("\n"));
        cur = [];
        continue;
      }
    }
    cur.push(line);
  }
  if (cur.length) blocks.push(cur.join("\n"));
  return blocks;
}

/** Characters a paragraph may hold for typing in it to be echoed (none is Markdown syntax mid-line). */
const ECHO_TEXT = /^[\p{L}\p{N} .,;:!?'"()\n-]*$/u;
/** What may stand beside an echoed character. */
const BESIDE = /^[\p{L}\p{N} ]$/u;

/**
 * The element a typed letter or digit makes of a plain paragraph, made at once instead of
 * after the round trip to Rust, or null when that cannot be known without rendering.
 *
 * It is made only when the old element is one `<p>` holding exactly the old text (so the
 * paragraph has no Markdown in it), the new text is the old one with one letter or digit
 * inserted, that character stands between letters, digits or spaces (a letter may also start
 * a line or end one), and the paragraph holds only letters, digits, spaces, line breaks and
 * `.,;:!?'"()-`. Inserting such a character next to no delimiter, entity, list marker or
 * indentation changes no Markdown structure, so the spokes' renderer would give the same
 * paragraph with the character in it (checked against it in `spokes_core::render`'s tests).
 */
export function echoTyping(oldSrc: string, oldEl: HTMLElement, newSrc: string): HTMLElement | null {
  const n = newSrc.length - oldSrc.length;
  if (n < 1 || n > 2 || !ECHO_TEXT.test(newSrc)) return null;
  const p = oldEl.firstElementChild;
  if (oldEl.childElementCount !== 1 || !p || p.tagName !== "P" || p.childNodes.length !== 1
    || p.firstChild?.nodeType !== Node.TEXT_NODE || p.textContent !== oldSrc) return null;
  let k = 0;
  while (k < oldSrc.length && oldSrc[k] === newSrc[k]) k++;
  if (newSrc.slice(k + n) !== oldSrc.slice(k)) return null;
  const typed = newSrc.slice(k, k + n);
  if (!/^[\p{L}\p{N}]$/u.test(typed)) return null;
  const before = newSrc.slice(0, k), after = newSrc.slice(k + n);
  const prev = Array.from(before.slice(-2)).pop(), next = Array.from(after.slice(0, 2))[0];
  const letter = /^\p{L}$/u.test(typed);
  const prevOk = prev !== undefined && prev !== "\n" ? BESIDE.test(prev) : letter;
  const nextOk = next !== undefined && next !== "\n" ? BESIDE.test(next) : prev !== " ";
  if (!prevOk || !nextOk) return null;
  const el = document.createElement("div");
  el.className = "block";
  const para = document.createElement("p");
  para.textContent = newSrc;
  el.append(para);
  return el;
}

/** Renders a batch of Markdown blocks to sanitised HTML, one string per block. */
export type RenderBlocks = (blocks: string[]) => Promise<string[]>;

/** Keeps `root`'s children in step with the Markdown, re-rendering only changed blocks. */
export class BlockPreview {
  /** When `update` was last called (`performance.now()`). */
  lastRequested = 0;
  /** The text last shown in full. */
  private applied: string | null = null;
  private blocks: Block[] = [];
  private running: Promise<void> | null = null;
  private next: string | null = null;
  private generation = 0;

  constructor(private root: HTMLElement, private render: RenderBlocks) {}

  /** Shows `md`. Calls made while a render runs collapse into one render of the latest text. */
  update(md: string): Promise<void> {
    this.next = md;
    this.lastRequested = performance.now();
    if (!this.running) {
      this.running = (async () => {
        while (this.next !== null) {
          const text = this.next;
          this.next = null;
          await this.apply(text);
        }
        this.running = null;
      })();
    }
    return this.running;
  }

  /** Forgets what is shown (another post was opened). */
  reset(): void {
    this.generation++;
    this.next = null;
    this.applied = null;
    this.blocks = [];
    this.root.replaceChildren();
  }

  private async apply(md: string): Promise<void> {
    // A foretold keystroke (see editor.ts) is followed by its edit, with the same text.
    if (md === this.applied) return;
    const srcs = needsWhole(md) ? [md] : splitBlocks(md);
    const old = this.blocks;
    let start = 0;
    while (start < old.length && start < srcs.length && old[start].src === srcs[start]) start++;
    let end = 0;
    while (end < old.length - start && end < srcs.length - start && old[old.length - 1 - end].src === srcs[srcs.length - 1 - end]) end++;
    const changed = srcs.slice(start, srcs.length - end);
    const removed = old.slice(start, old.length - end);
    if (changed.length === 0 && removed.length === 0) { this.applied = md; return; }
    // A letter typed in a plain paragraph shows at once; Rust's rendering replaces it below.
    if (changed.length === 1 && removed.length === 1) {
      const echo = echoTyping(removed[0].src, removed[0].el, changed[0]);
      if (echo) {
        removed[0].el.replaceWith(echo);
        removed[0].el = echo;
      }
    }
    const generation = this.generation;
    const html = changed.length ? await this.render(changed) : [];
    if (generation !== this.generation) return; // reset meanwhile: this text is gone
    const fresh: Block[] = changed.map((src, i) => {
      const el = document.createElement("div");
      el.className = "block";
      el.innerHTML = html[i] ?? ""; // sanitised in Rust by ammonia with an explicit allow-list
      return { src, el };
    });
    const after = old[old.length - end]?.el ?? null;
    for (const b of removed) b.el.remove();
    for (const b of fresh) this.root.insertBefore(b.el, after);
    this.blocks = [...old.slice(0, start), ...fresh, ...old.slice(old.length - end)];
    this.applied = md;
  }
}
