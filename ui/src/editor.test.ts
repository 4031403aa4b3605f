// @vitest-environment happy-dom
import { describe, expect, it } from "vitest";
import { EditorState } from "@codemirror/state";
import { insertNewlineAndIndent } from "@codemirror/commands";
import { markdown } from "@codemirror/lang-markdown";
import { ensureSyntaxTree } from "@codemirror/language";
import { foretellTyping, hiddenMarks, MarkdownEditor, splicesFromChanges } from "./editor";
import { applySplices, SpliceTracker, type Splice } from "./splices";

describe("splices from CodeMirror's changes", () => {
  it("turn the old text into the new one, emoji counted as two units", () => {
    const start = EditorState.create({ doc: "Hi 😀 there, 🇫🇷 friend" });
    // One transaction with three changes, given in the old text's positions.
    const tr = start.update({ changes: [{ from: 3, to: 5, insert: "🌍" }, { from: 12, insert: "!" }, { from: 13, to: 17, insert: "" }] });
    const splices = splicesFromChanges(tr.changes);
    expect(splices).toEqual([
      { pos: 3, delete: 2, insert: "🌍" },
      { pos: 12, delete: 0, insert: "!" },
      { pos: 14, delete: 4, insert: "" },
    ]);
    expect(applySplices(start.doc.toString(), splices)).toBe(tr.state.doc.toString());
  });

  it("stay right over a run of random edits with characters outside the BMP", () => {
    const pieces = ["a", " ", "é", "😀", "🇫🇷", "\n", "𝔘"];
    let state = EditorState.create({ doc: "start 😀 text" });
    const all: Splice[] = [];
    let seed = 7;
    const rnd = (n: number) => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n; };
    for (let i = 0; i < 300; i++) {
      const text = state.doc.toString();
      // Whole code points only, as typing makes.
      const points = Array.from(text);
      const at = rnd(points.length + 1), del = rnd(3);
      const from = points.slice(0, at).join("").length;
      const to = from + points.slice(at, at + del).join("").length;
      const tr = state.update({ changes: { from, to, insert: pieces[rnd(pieces.length)] } });
      all.push(...splicesFromChanges(tr.changes));
      state = tr.state;
    }
    expect(applySplices("start 😀 text", all)).toBe(state.doc.toString());
  });
});

describe("MarkdownEditor", () => {
  it("reports the writer's edits as splices, and a new post's text as none", () => {
    const box = document.createElement("div");
    document.body.append(box);
    const tracker = new SpliceTracker("");
    let reported = "";
    const editor = new MarkdownEditor(box, (splices, text) => { tracker.record(splices, text); reported = text; });
    editor.value = "Hello 😀 world";
    tracker.reset(editor.value);
    expect(tracker.dirty).toBe(false);
    editor.insertAt(8, "!");
    editor.edit("Hello 😀! **world**", 11, 16);
    const { splices, length } = tracker.take();
    expect(applySplices("Hello 😀 world", splices)).toBe("Hello 😀! **world**");
    expect(length).toBe("Hello 😀! **world**".length);
    expect(reported).toBe(editor.value); // the text after the edit, though told before the editor redraws
    expect([editor.selectionStart, editor.selectionEnd]).toEqual([11, 16]);
    expect(document.getElementById("body")).toBe(editor.contentDOM);
  });

  it("holds typing while no post is open, through a change of text, until let go", () => {
    const box = document.createElement("div");
    document.body.append(box);
    let edits = 0;
    const editor = new MarkdownEditor(box, () => { edits++; });
    editor.editable = false;
    expect(editor.contentDOM.getAttribute("contenteditable")).toBe("false");
    expect(insertNewlineAndIndent(editor.view)).toBe(false); // a key's command does nothing
    editor.value = "The post, arrived";
    expect(editor.editable).toBe(false);
    expect(editor.view.state.readOnly).toBe(true);
    expect(insertNewlineAndIndent(editor.view)).toBe(false);
    expect(edits).toBe(0);
    editor.editable = true;
    expect(editor.contentDOM.getAttribute("contenteditable")).toBe("true");
    editor.setSelectionRange(editor.value.length, editor.value.length);
    expect(insertNewlineAndIndent(editor.view)).toBe(true);
    expect(editor.value).toBe("The post, arrived\n");
    expect(edits).toBe(1);
  });
});

describe("foretelling a typed character", () => {
  const typed = (data: string, extra: Partial<{ inputType: string; isComposing: boolean }> = {}) =>
    ({ inputType: "insertText", data, isComposing: false, ...extra });

  it("gives the text CodeMirror will make, over a selection and beside emoji", () => {
    const state = EditorState.create({ doc: "Hi 😀 there 🇫🇷" });
    for (const [from, to, data] of [[3, 5, "é"], [0, 0, "𝔘"], [state.doc.length, state.doc.length, "!"], [6, 11, "x"]] as const) {
      const after = state.update({ changes: { from, to, insert: data } }).state.doc.toString();
      expect(foretellTyping(typed(data), state.doc, from, to)).toBe(after);
    }
  });

  it("leaves alone what is not plain typing", () => {
    const doc = EditorState.create({ doc: "abc" }).doc;
    expect(foretellTyping(typed("x", { isComposing: true }), doc, 1, 1)).toBeNull();
    expect(foretellTyping(typed("x", { inputType: "insertFromPaste" }), doc, 1, 1)).toBeNull();
    expect(foretellTyping({ inputType: "deleteContentBackward", data: null, isComposing: false }, doc, 1, 1)).toBeNull();
    expect(foretellTyping(typed("a\nb"), doc, 1, 1)).toBeNull();
  });
});

describe("marks hidden away from the cursor", () => {
  const hidden = (doc: string, cursor: number) => {
    const state = EditorState.create({ doc, selection: { anchor: cursor }, extensions: [markdown()] });
    ensureSyntaxTree(state, state.doc.length, 5000);
    return hiddenMarks(state, 0, state.doc.length).map((r) => doc.slice(r.from, r.to));
  };
  const doc = "## Night shift\n\nThe **engine** hums, _softly_, in `code`; see [the log](https://example.org/log).\n\n![engine room](images/x.png)\n\n- a list\n> a quote\n";

  it("hides heading, emphasis, code and link marks on lines away from the cursor", () => {
    expect(hidden(doc, doc.length)).toEqual(["## ", "**", "**", "_", "_", "`", "`", "[", "](https://example.org/log)"]);
  });

  it("keeps every mark on the line the cursor is on", () => {
    const onHeading = hidden(doc, 3);
    expect(onHeading).not.toContain("## ");
    expect(onHeading).toContain("**");
    const inParagraph = hidden(doc, doc.indexOf("engine"));
    expect(inParagraph).toEqual(["## "]);
  });

  it("leaves pictures from elsewhere, lists and quotes as they are written", () => {
    const all = hidden(doc, 0).join("");
    expect(all).not.toContain("images/");
    expect(all).not.toContain("!");
    expect(all).not.toContain("- ");
    expect(all).not.toContain(">");
  });

  it("shows a kept picture by its description only, away from the cursor", () => {
    const name = `${"ab12".repeat(16)}.png`;
    const kept = `Night:\n\n![engine room](images/${name})\n\nAfter.`;
    expect(hidden(kept, kept.length)).toEqual(["![", `](images/${name})`]);
    expect(hidden(kept, kept.indexOf("engine"))).toEqual([]);
    // Not a name the blog keeps pictures under: written as it is.
    const odd = `![engine room](images/${name}.exe)\n\nAfter.`;
    expect(hidden(odd, odd.length)).toEqual([]);
  });
});
