import { describe, expect, it } from "vitest";
import { useLanguage } from "./i18n";
import { code, countWords, link, permalinkBase, prefixLines, revisionLabels, unpublishedNotice, wordCountLine, wrap } from "./format";

describe("formatting", () => {
  it("wraps and unwraps a selection", () => {
    const w = wrap("say hello now", 4, 9, "**");
    expect(w).toEqual({ text: "say **hello** now", start: 6, end: 11 });
    expect(wrap(w.text, w.start, w.end, "**")).toEqual({ text: "say hello now", start: 4, end: 9 });
    expect(wrap("ab", 1, 1, "_")).toEqual({ text: "a__b", start: 2, end: 2 });
  });

  it("toggles a prefix on every selected line", () => {
    const q = prefixLines("one\ntwo\nthree", 1, 6, "> ");
    expect(q.text).toBe("> one\n> two\nthree");
    expect(prefixLines(q.text, 2, 10, "> ").text).toBe("one\ntwo\nthree");
    expect(prefixLines("title", 0, 0, "## ").text).toBe("## title");
    // A selection ending just after a newline does not take in the next line.
    expect(prefixLines("a\nb\n", 0, 2, "- ").text).toBe("- a\nb\n");
  });

  it("makes links and code", () => {
    const l = link("see docs", 4, 8);
    expect(l.text).toBe("see [docs](https://)");
    expect(l.text.slice(l.start, l.end)).toBe("https://");
    expect(code("x = 1", 0, 5).text).toBe("`x = 1`");
    expect(code("a\nb\n", 0, 4).text).toBe("```\na\nb\n```\n");
  });

  it("counts words, emoji and other scripts included", () => {
    expect(countWords("")).toBe(0);
    expect(countWords("Hello, wide world 🌍 — café")).toBe(4);
    expect(countWords(`Night:\n\n![engine room](images/${"ab".repeat(32)}.png)\n`)).toBe(3);
    expect(countWords("Hosted at [GitHub's Headquarters](https://goo.gl/maps/Bmy7i) in San Francisco.")).toBe(7);
    expect(wordCountLine("one")).toBe("1 word · 1 min read");
    expect(wordCountLine("w ".repeat(1000))).toBe("1,000 words · 5 min read");
  });

  it("labels revisions so that two signed in the same minute can be told apart", () => {
    const rev = (signed_at: number, body: string, device?: string) => ({ signed_at, device, post: { body } });
    // 1,700,000,040 s starts a minute; 55 is 15 s into it; 1,700,003,600 is an hour later.
    useLanguage("en", ["en-US"]);
    const labels = revisionLabels([rev(1_700_000_040, "one two", "laptop"), rev(1_700_000_055, "one two three", "laptop"), rev(1_700_003_600, "word")]);
    expect(labels[0]).toMatch(/\d:\d\d:00\s?[AP]M · on laptop · 2 words$/);
    expect(labels[1]).toMatch(/\d:\d\d:15\s?[AP]M · on laptop · 3 words$/);
    // Alone in its minute: no seconds, no device, one word.
    expect(labels[2]).toMatch(/^\w{3} \d+, \d{4}, \d+:\d\d\s?[AP]M · 1 word$/);
  });

  it("previews a post's web address on the writer's own spoke", () => {
    const id = "0123456789abcdef0123456789abcdef";
    expect(permalinkBase([{ web: null }, { web: "https://notes.example/" }], id, "http://127.0.0.1:8080/b/x/")).toBe(`https://notes.example/b/${id}/`);
    expect(permalinkBase([], id, "http://127.0.0.1:8080/b/x")).toBe("http://127.0.0.1:8080/b/x/");
    expect(permalinkBase([{}], id, "http://127.0.0.1:8080/b/x/")).toBe(`(your spoke)/b/${id}/`);
  });
});

describe("unpublishing", () => {
  it("says plainly what happens to the words, in each layout", () => {
    const set = unpublishedNotice("Mistake", true);
    expect(set).toContain("“Mistake”");
    expect(set).toContain("delete its words");
    expect(set).toContain("cannot be recalled");
    const one = unpublishedNotice("", false);
    expect(one).toContain("“Untitled”");
    expect(one).toContain("still keep its earlier words");
    expect(one).not.toContain("delete its words");
  });
});
