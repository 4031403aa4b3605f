// What the editor sends to Rust at each autosave: the edits typed since the last one, as
// splices in UTF-16 code units (JavaScript's string unit, and the documents' text unit), never
// splitting a surrogate pair. Rust folds adjacent splices and applies them as one change.

export interface Splice { pos: number; delete: number; insert: string }

const isHigh = (c: number) => c >= 0xd800 && c <= 0xdbff;
const isLow = (c: number) => c >= 0xdc00 && c <= 0xdfff;

/**
 * The one splice that turns `before` into `after`, or null if they are equal. `cursor` (the
 * caret after the edit, when known) places an ambiguous edit where the writer made it: typing
 * "l" in "he|llo" is an insert at 2, not at 3 or 4.
 */
export function diffSplice(before: string, after: string, cursor?: number): Splice | null {
  if (before === after) return null;
  const maxCommon = Math.min(before.length, after.length);
  // Common suffix, not reaching left of the caret.
  let suffix = 0;
  const suffixLimit = cursor === undefined ? maxCommon : Math.min(maxCommon, Math.max(0, after.length - cursor));
  while (suffix < suffixLimit && before.charCodeAt(before.length - 1 - suffix) === after.charCodeAt(after.length - 1 - suffix)) suffix++;
  let prefix = 0;
  const prefixLimit = maxCommon - suffix;
  while (prefix < prefixLimit && before.charCodeAt(prefix) === after.charCodeAt(prefix)) prefix++;
  // Never cut a surrogate pair: widen the edit to whole code points.
  if (prefix > 0 && isHigh(before.charCodeAt(prefix - 1))) prefix--;
  if (suffix > 0 && isLow(before.charCodeAt(before.length - suffix))) suffix--;
  return { pos: prefix, delete: before.length - prefix - suffix, insert: after.slice(prefix, after.length - suffix) };
}

/** Collects the splices of one editor between autosaves. */
export class SpliceTracker {
  private pending: Splice[] = [];
  constructor(private text: string) {}

  /** The text as the tracker last saw it. */
  get current(): string { return this.text; }

  /** Call on every input event with the editor's text and caret. */
  update(after: string, cursor?: number): void {
    const s = diffSplice(this.text, after, cursor);
    if (s) this.pending.push(s);
    this.text = after;
  }

  /** Records splices the editor reported itself (CodeMirror), which lead to `after`. */
  record(splices: Splice[], after: string): void {
    this.pending.push(...splices);
    this.text = after;
  }

  /** Whether edits are waiting to be saved. */
  get dirty(): boolean { return this.pending.length > 0; }

  /** The splices since the last `take`, and the text length in UTF-16 units they lead to. */
  take(): { splices: Splice[]; length: number } {
    const splices = this.pending;
    this.pending = [];
    return { splices, length: this.text.length };
  }

  /** Puts splices from a failed save back in front of any made since. */
  restore(splices: Splice[]): void { this.pending = splices.concat(this.pending); }

  /** Starts over with `text` (another post was opened, or the whole text was saved). */
  reset(text: string): void { this.text = text; this.pending = []; }
}

/** Applies splices to a string, as Rust does (for tests). */
export function applySplices(text: string, splices: Splice[]): string {
  for (const s of splices) text = text.slice(0, s.pos) + s.insert + text.slice(s.pos + s.delete);
  return text;
}
