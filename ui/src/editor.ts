// The Markdown editor: CodeMirror 6 with Markdown highlighting, undo history, the webview's
// spell check, and a face like a text area's (value, selection, focus) for the rest of the UI.
// Every change the writer makes reaches `onEdit` as splices in UTF-16 code units, taken
// straight from CodeMirror's change sets, so Rust applies exactly what was typed.

import { type ChangeSet, Compartment, EditorState, type Extension, RangeSetBuilder, StateField, type Text } from "@codemirror/state";
import { Decoration, type DecorationSet, EditorView, ViewPlugin, type ViewUpdate, WidgetType, drawSelection, keymap, placeholder } from "@codemirror/view";
import { defaultKeymap, history, historyKeymap } from "@codemirror/commands";
import { markdown } from "@codemirror/lang-markdown";
import { openSearchPanel, search, searchKeymap } from "@codemirror/search";
import { HighlightStyle, syntaxHighlighting, syntaxTree } from "@codemirror/language";
import { tags } from "@lezer/highlight";
import { diffSplice, type Splice } from "./splices";
import { t } from "./i18n";

/**
 * The splices, in order, that turn the text before `changes` into the text after. CodeMirror
 * gives each change in the old text's positions; applied one after another from the start,
 * each one's position is where it lands in the new text (`fromB`).
 */
export function splicesFromChanges(changes: ChangeSet): Splice[] {
  const out: Splice[] = [];
  changes.iterChanges((fromA, toA, fromB, _toB, inserted) => {
    out.push({ pos: fromB, delete: toA - fromA, insert: inserted.toString() });
  });
  return out;
}

/**
 * The text a typed character will make, known before WebKit and CodeMirror have applied it:
 * `data` in place of the selection [from, to). Only plain typing is foretold (`insertText`
 * outside an input method's composition); anything else gives null and waits for the edit.
 */
export function foretellTyping(e: { inputType: string; data: string | null; isComposing: boolean }, doc: Text, from: number, to: number): string | null {
  if (e.inputType !== "insertText" || !e.data || e.isComposing || e.data.includes("\n")) return null;
  return doc.sliceString(0, from) + e.data + doc.sliceString(to);
}

/** Keys the page handles itself (see the keydown handler in main.ts). */
const PAGE_KEYS = new Set(["mod-b", "mod-i", "mod-k", "mod-e", "mod-enter", "mod-s", "mod-n", "mod-d", "mod-h", "mod-,",
  "shift-mod-h", "shift-mod-q", "shift-mod-l", "shift-mod-f", "shift-mod-i", "mod-shift-h", "mod-shift-q", "mod-shift-l", "mod-shift-f", "mod-shift-i"]);

/**
 * Markdown shown as it will read: headings larger and bold, emphasis in italics, strong in
 * bold, links underlined, code in a monospace face; the marks themselves (`#`, `*`, `[`…`]`,
 * `>`) dimmed where they show, so the words come first (most are hidden away from the
 * cursor: [`hiddenMarks`]).
 */
const WRITING_STYLE = HighlightStyle.define([
  { tag: tags.heading1, fontSize: "1.5em", fontWeight: "700" },
  { tag: tags.heading2, fontSize: "1.3em", fontWeight: "700" },
  { tag: tags.heading3, fontSize: "1.15em", fontWeight: "700" },
  { tag: [tags.heading4, tags.heading5, tags.heading6], fontWeight: "700" },
  { tag: tags.emphasis, fontStyle: "italic" },
  { tag: tags.strong, fontWeight: "700" },
  { tag: tags.strikethrough, textDecoration: "line-through" },
  { tag: tags.link, textDecoration: "underline" },
  { tag: tags.url, class: "md-url" },
  { tag: tags.monospace, fontFamily: "ui-monospace, monospace", fontSize: ".92em" },
  { tag: tags.quote, fontStyle: "italic" },
  { tag: [tags.processingInstruction, tags.contentSeparator, tags.labelName], class: "md-mark" },
]);

/** `![alt](images/<name>)`: a picture kept with the blog (`spokes_core::image::LINK_PREFIX`). */
const KEPT_PICTURE = /!\[([^\]\n]*)\]\(images\/([0-9a-f]{64}\.[a-z]{3,4})\)/g;
/** [`KEPT_PICTURE`] as a whole text (one picture's Markdown, nothing around it). */
const KEPT_PICTURE_WHOLE = new RegExp(`^${KEPT_PICTURE.source}$`);

/**
 * The Markdown marks to hide between `from` and `to` (document offsets, ascending, not
 * overlapping): a heading's `#`s and the space after them, the `*`/`_` of emphasis and
 * strong, the backticks of inline code, a link's brackets and address, and the marks and
 * name of a picture kept with the blog (it shows under the line), so the words read as they
 * will. Lines a selection touches keep every mark, to edit them where the writer is; so do
 * pictures from elsewhere on the web, lists and quotes (their marks are the structure the
 * writer sees).
 */
export function hiddenMarks(state: EditorState, from: number, to: number): { from: number; to: number }[] {
  const near = state.selection.ranges.map((r) => [state.doc.lineAt(r.from).from, state.doc.lineAt(r.to).to]);
  const touched = (a: number, b: number) => near.some(([s, e]) => a <= e && b >= s);
  const out: { from: number; to: number }[] = [];
  const hide = (a: number, b: number) => { if (b > a && !touched(a, b)) out.push({ from: a, to: b }); };
  syntaxTree(state).iterate({
    from, to,
    enter: (n) => {
      const parent = n.node.parent?.name;
      switch (n.name) {
        case "HeaderMark":
          // ATX headings only ("## Title"); the underline of a Setext heading stays.
          if (parent?.startsWith("ATXHeading")) hide(n.from, state.doc.sliceString(n.to, n.to + 1) === " " ? n.to + 1 : n.to);
          return;
        case "EmphasisMark":
          hide(n.from, n.to);
          return;
        case "CodeMark":
          if (parent === "InlineCode") hide(n.from, n.to);
          return;
        case "LinkMark":
          if (parent === "Link") hide(n.from, n.to);
          return;
        case "URL":
          if (parent === "Link") hide(n.from, n.to);
          return;
        case "Image": {
          // A picture kept with the blog shows under its line: away from the cursor only its
          // description stays ("engine room"), not the 64-character name it is kept under.
          // Pictures elsewhere on the web keep their link as written.
          const text = state.doc.sliceString(n.from, n.to);
          if (KEPT_PICTURE_WHOLE.test(text)) {
            hide(n.from, n.from + 2);
            hide(n.from + text.lastIndexOf("](images/"), n.to);
          }
          return false;
        }
      }
      return undefined;
    },
  });
  // A link's "](" and ")" are separate marks around its address: hidden as one run.
  out.sort((a, b) => a.from - b.from);
  const runs: { from: number; to: number }[] = [];
  for (const r of out) {
    const last = runs[runs.length - 1];
    if (last && r.from <= last.to) last.to = Math.max(last.to, r.to); else runs.push({ ...r });
  }
  return runs;
}

/** Hides the marks [`hiddenMarks`] names in the lines in view, again as the text, the view or the selection moves. */
const MARKS_AWAY_FROM_CURSOR = ViewPlugin.fromClass(class {
  decorations: DecorationSet;
  constructor(view: EditorView) { this.decorations = this.build(view); }
  update(u: ViewUpdate) {
    if (u.docChanged || u.viewportChanged || u.selectionSet || syntaxTree(u.startState) !== syntaxTree(u.state)) this.decorations = this.build(u.view);
  }
  build(view: EditorView): DecorationSet {
    const b = new RangeSetBuilder<Decoration>();
    for (const { from, to } of view.visibleRanges) for (const r of hiddenMarks(view.state, from, to)) b.add(r.from, r.to, Decoration.replace({}));
    return b.finish();
  }
}, { decorations: (p) => p.decorations });

/** A picture kept with the blog, shown under the line that links it. */
class PictureWidget extends WidgetType {
  constructor(readonly src: string, readonly alt: string) { super(); }
  eq(other: PictureWidget) { return other.src === this.src && other.alt === this.alt; }
  toDOM() {
    const img = document.createElement("img");
    img.className = "cm-picture";
    img.src = this.src;
    img.alt = this.alt;
    return img;
  }
  get estimatedHeight() { return 160; }
}


/**
 * Pictures shown as pictures: each kept picture's link gets the picture under its line,
 * drawn from `base` (the app's picture scheme), as the preview draws it.
 */
function pictures(base: string): Extension {
  const build = (doc: Text): DecorationSet => {
    const b = new RangeSetBuilder<Decoration>();
    const text = doc.toString();
    if (!text.includes("](images/")) return b.finish();
    for (const m of text.matchAll(KEPT_PICTURE)) {
      const end = doc.lineAt((m.index ?? 0) + m[0].length).to;
      b.add(end, end, Decoration.widget({ widget: new PictureWidget(base + m[2], m[1]), block: true, side: 1 }));
    }
    return b.finish();
  };
  return StateField.define<DecorationSet>({
    create: (state) => build(state.doc),
    update: (deco, tr) => (tr.docChanged ? build(tr.state.doc) : deco),
    provide: (f) => EditorView.decorations.from(f),
  });
}

/** The find bar's words (CodeMirror's phrases), as a writer says them. */
const FIND_WORDS: Record<string, string> = {
  Find: t("find-find"), Replace: t("find-replace-with"), next: t("find-next"), previous: t("find-previous"), all: t("find-all"),
  "match case": t("find-match-case"), regexp: t("find-pattern"), "by word": t("find-whole-words"), replace: t("find-replace"),
  "replace all": t("find-replace-all"), close: t("find-close"),
};

/** What the editor reports after each change the writer makes. */
export type OnEdit = (splices: Splice[], text: string, caret: number) => void;

/** CodeMirror's settings for a locked (`true`) or open editor. */
const lockedIf = (locked: boolean): Extension => [EditorState.readOnly.of(locked), EditorView.editable.of(!locked)];

/** CodeMirror behind a text area's face. */
export class MarkdownEditor {
  readonly view: EditorView;
  private quiet = false;
  private readonly extensions: Extension[];
  private readonly lock = new Compartment();
  private locked = false;

  /**
   * `handlers.foretold` hears the text a typed character will make, before the edit is
   * applied ([`foretellTyping`]), so the preview can follow in the same frame; `onEdit` still
   * reports every edit as it happened.
   */
  constructor(parent: HTMLElement, onEdit: OnEdit, handlers: {
    paste?: (e: ClipboardEvent) => boolean;
    drop?: (e: DragEvent) => boolean;
    foretold?: (text: string) => void;
    /** Where kept pictures are read from (`images/<name>` → base + name); none: not shown. */
    imageBase?: string;
  } = {}) {
    this.extensions = [
          history(),
          drawSelection(),
          // The page's own shortcuts (formatting, publish…) win over CodeMirror's defaults.
          keymap.of([...defaultKeymap, ...historyKeymap, ...searchKeymap].filter((b) => !PAGE_KEYS.has((b.key ?? "").toLowerCase()))),
          // Find and replace (Ctrl+F), in a bar above the text, in plain words.
          search({ top: true }),
          EditorState.phrases.of(FIND_WORDS),
          handlers.imageBase === undefined ? [] : pictures(handlers.imageBase),
          markdown(),
          syntaxHighlighting(WRITING_STYLE),
          MARKS_AWAY_FROM_CURSOR,
          EditorView.lineWrapping,
          placeholder(t("editor-placeholder")),
          EditorView.contentAttributes.of({ id: "body", spellcheck: "true", autocorrect: "on", "aria-label": t("editor-label") }),
          EditorView.domEventHandlers({
            paste: (e) => handlers.paste?.(e) ?? false,
            drop: (e) => handlers.drop?.(e) ?? false,
            beforeinput: (e, view) => {
              if (handlers.foretold && !view.composing) {
                const sel = view.state.selection.main;
                const text = foretellTyping(e, view.state.doc, sel.from, sel.to);
                if (text !== null) handlers.foretold(text);
              }
              return false; // CodeMirror and WebKit handle the input as usual
            },
          }),
    ];
    this.view = new EditorView({
      parent,
      state: this.freshState(""),
      // The edit is reported before CodeMirror updates its own elements, so the preview's
      // render (in the app's process) runs while the editor redraws.
      dispatchTransactions: (trs, view) => {
        try {
          if (!this.quiet && trs.some((t) => t.docChanged)) {
            const last = trs[trs.length - 1].state;
            onEdit(trs.flatMap((t) => splicesFromChanges(t.changes)), last.doc.toString(), last.selection.main.head);
          }
        } finally {
          view.update(trs);
        }
      },
    });
  }

  /** Opens the find and replace bar over the text, with the selection to find. */
  openFind() {
    this.view.focus();
    openSearchPanel(this.view);
  }

  /** A new state holding `doc`, as locked as the editor is now. */
  private freshState(doc: string): EditorState {
    return EditorState.create({ doc, extensions: [...this.extensions, this.lock.of(lockedIf(this.locked))] });
  }

  /**
   * Whether the writer can type. The page turns it off while no post is open (the blog still
   * loading, or the next post coming after a delete), so that nothing typed then is lost when
   * the post arrives. Setting the value keeps it as it is.
   */
  get editable(): boolean { return !this.locked; }
  set editable(on: boolean) {
    this.locked = !on;
    this.view.dispatch({ effects: this.lock.reconfigure(lockedIf(this.locked)) });
  }

  /** The element that takes the focus and the keys. */
  get contentDOM(): HTMLElement { return this.view.contentDOM; }

  /** The whole text. Setting it (another post opened) reports no edit and clears undo. */
  get value(): string { return this.view.state.doc.toString(); }
  set value(text: string) {
    this.quiet = true;
    try {
      this.view.setState(this.freshState(text));
    } finally { this.quiet = false; }
  }

  get selectionStart(): number { return this.view.state.selection.main.from; }
  get selectionEnd(): number { return this.view.state.selection.main.to; }
  setSelectionRange(from: number, to: number): void {
    const len = this.view.state.doc.length;
    this.view.dispatch({ selection: { anchor: Math.min(from, len), head: Math.min(to, len) }, scrollIntoView: true });
  }
  focus(): void { this.view.focus(); }

  /** Replaces the text with `text` as one edit of the writer's (undoable, reported), selecting [start, end). */
  edit(text: string, start: number, end: number): void {
    const s = diffSplice(this.value, text, end);
    this.view.dispatch({
      changes: s ? { from: s.pos, to: s.pos + s.delete, insert: s.insert } : undefined,
      selection: { anchor: start, head: end },
      userEvent: "input",
      scrollIntoView: true,
    });
  }

  /** Types `text` at `pos`, as a keystroke would (benchmarks and tests). */
  insertAt(pos: number, text: string): void {
    this.view.dispatch({ changes: { from: pos, insert: text }, selection: { anchor: pos + text.length }, userEvent: "input.type" });
  }
}
