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

/** Renders a batch of Markdown blocks to sanitised HTML, one string per block. */
export type RenderBlocks = (blocks: string[]) => Promise<string[]>;

/** Keeps `root`'s children in step with the Markdown, re-rendering only changed blocks. */
export class BlockPreview {
  private blocks: Block[] = [];
  private running: Promise<void> | null = null;
  private next: string | null = null;
  private generation = 0;

  constructor(private root: HTMLElement, private render: RenderBlocks) {}

  /** Shows `md`. Calls made while a render runs collapse into one render of the latest text. */
  update(md: string): Promise<void> {
    this.next = md;
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
    this.blocks = [];
    this.root.replaceChildren();
  }

  private async apply(md: string): Promise<void> {
    const srcs = needsWhole(md) ? [md] : splitBlocks(md);
    const old = this.blocks;
    let start = 0;
    while (start < old.length && start < srcs.length && old[start].src === srcs[start]) start++;
    let end = 0;
    while (end < old.length - start && end < srcs.length - start && old[old.length - 1 - end].src === srcs[srcs.length - 1 - end]) end++;
    const changed = srcs.slice(start, srcs.length - end);
    const removed = old.slice(start, old.length - end);
    if (changed.length === 0 && removed.length === 0) return;
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
  }
}
