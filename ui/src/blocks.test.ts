// @vitest-environment happy-dom
import { describe, expect, it } from "vitest";
import { BlockPreview, echoTyping, needsWhole, splitBlocks } from "./blocks";

describe("splitBlocks", () => {
  it("cuts at blank lines but not inside fences or before indented continuations", () => {
    const md = "# Title\n\nFirst para\nstill first.\n\n```\ncode\n\nmore code\n```\n\n- item\n\n  continued item\n- next\n\nLast 😀.";
    expect(splitBlocks(md)).toEqual([
      "# Title",
      "First para\nstill first.",
      "```\ncode\n\nmore code\n```",
      "- item\n\n  continued item\n- next",
      "Last 😀.",
    ]);
  });

  it("sends texts whose blocks depend on each other whole", () => {
    expect(needsWhole("See [the docs][d].\n\n[d]: https://e.com")).toBe(true);
    expect(needsWhole("A note[^1].\n\n[^1]: The note.")).toBe(true);
    expect(needsWhole("<details>\n\nInside\n\n</details>")).toBe(true);
    expect(needsWhole("Plain [link](https://e.com) and *words*.")).toBe(false);
  });
});

describe("BlockPreview", () => {
  it("re-renders only the blocks a keystroke changed, and keeps the others' elements", async () => {
    const root = document.createElement("article");
    const asked: string[][] = [];
    const render = async (blocks: string[]) => { asked.push(blocks); return blocks.map((b) => `<p>${b.length}</p>`); };
    const p = new BlockPreview(root, render);
    const paras = Array.from({ length: 50 }, (_, i) => `Paragraph ${i} with some words.`);
    await p.update(paras.join("\n\n"));
    expect(root.children.length).toBe(50);
    expect(asked[0].length).toBe(50);
    const keep = root.children[0], edited = root.children[20], last = root.children[49];

    paras[20] = "Paragraph 20 with some words!";
    await p.update(paras.join("\n\n"));
    expect(asked[1]).toEqual(["Paragraph 20 with some words!"]);
    expect(root.children[0]).toBe(keep);
    expect(root.children[49]).toBe(last);
    expect(root.children[20]).not.toBe(edited);
    expect(root.children.length).toBe(50);

    // A new paragraph in the middle, then one removed: the rest stay in order.
    paras.splice(10, 0, "Inserted.");
    await p.update(paras.join("\n\n"));
    expect(asked[2]).toEqual(["Inserted."]);
    expect(root.children.length).toBe(51);
    expect(root.children[10].innerHTML).toBe("<p>9</p>");
    paras.splice(10, 1);
    await p.update(paras.join("\n\n"));
    expect(asked.length).toBe(3);
    expect(root.children.length).toBe(50);
    expect(Array.from(root.children).map((c) => c.innerHTML)).toEqual(paras.map((x) => `<p>${x.length}</p>`));
  });

  it("collapses updates made while rendering into one render of the latest text", async () => {
    const root = document.createElement("article");
    let calls = 0;
    const render = async (blocks: string[]) => { calls++; await new Promise((r) => setTimeout(r, 5)); return blocks.map((b) => b); };
    const p = new BlockPreview(root, render);
    const a = p.update("one");
    void p.update("two");
    void p.update("three");
    await a;
    expect(calls).toBe(2);
    expect(root.textContent).toBe("three");
    // Another post opened while the old one renders: only the new one shows.
    const old = p.update("old post");
    p.reset();
    await old;
    await p.update("new post");
    expect(root.textContent).toBe("new post");
  });
});

describe("echoing a typed letter", () => {
  const shown = (src: string, html = `<p>${src}</p>\n`) => {
    const el = document.createElement("div");
    el.innerHTML = html;
    return el;
  };
  const echoed = (old: string, now: string, html?: string) => echoTyping(old, shown(old, html), now)?.textContent ?? null;

  it("shows a letter or digit typed inside, at the end or at the start of a plain paragraph", () => {
    expect(echoed("The harbour at night", "The harbours at night")).toBe("The harbours at night");
    expect(echoed("Wait, really? Yes", "Wait, really? Yess")).toBe("Wait, really? Yess");
    expect(echoed("line one\nline two", "line one\nxline two")).toBe("line one\nxline two");
    expect(echoed("Page 4 of 9", "Page 42 of 9")).toBe("Page 42 of 9");
    expect(echoed("Café au lait", "Cafés au lait")).toBe("Cafés au lait");
  });

  it("leaves to the renderer whatever could change the Markdown", () => {
    // The paragraph already holds Markdown (its element is not just its text).
    expect(echoed("an *old* word", "an *olde* word", "<p>an <em>old</em> word</p>")).toBeNull();
    // Beside a delimiter, an entity, or at a line's start where a digit could begin a list.
    expect(echoed("a * b*", "a *x b*")).toBeNull();
    expect(echoed("&ap;", "&amp;")).toBeNull();
    expect(echoed("foo\n. bar", "foo\n1. bar")).toBeNull();
    expect(echoed("end.", "end.x")).toBeNull();
    // Not a single letter: a space, punctuation, a deletion, a paste.
    expect(echoed("ab cd", "ab  cd")).toBeNull();
    expect(echoed("ab cd", "ab, cd")).toBeNull();
    expect(echoed("ab cd", "ab c")).toBeNull();
    expect(echoed("ab cd", "ab xyz cd")).toBeNull();
    // Characters outside the plain set anywhere in the paragraph.
    expect(echoed("see [this] now", "see [this] nows")).toBeNull();
  });

  it("shows the echo at once, then Rust's rendering in its place", async () => {
    const root = document.createElement("article");
    let release: () => void = () => {};
    const render = async (blocks: string[]) => {
      await new Promise<void>((r) => { release = r; });
      return blocks.map((b) => `<p>${b}</p>\n`);
    };
    const p = new BlockPreview(root, render);
    const first = p.update("Title words\n\nA plain paragraph");
    release();
    await first;
    const typing = p.update("Title words\n\nA plainy paragraph");
    expect(root.children[1].textContent).toBe("A plainy paragraph"); // before the render returns
    release();
    await typing;
    expect(root.children.length).toBe(2);
    expect(root.children[1].innerHTML).toBe("<p>A plainy paragraph</p>\n");
  });
});
