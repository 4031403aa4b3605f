import { describe, expect, it } from "vitest";
import { applySplices, diffSplice, SpliceTracker } from "./splices";

/** Feeds `steps` (text and caret after each input event) to a tracker starting from `start`. */
function replay(start: string, steps: Array<[string, number?]>) {
  const t = new SpliceTracker(start);
  for (const [text, caret] of steps) t.update(text, caret);
  return t.take();
}

describe("diffSplice", () => {
  it("places an ambiguous insert at the caret", () => {
    expect(diffSplice("hello", "helllo", 3)).toEqual({ pos: 2, delete: 0, insert: "l" });
    expect(diffSplice("hello", "helllo", 5)).toEqual({ pos: 4, delete: 0, insert: "l" });
    expect(diffSplice("same", "same")).toBeNull();
  });

  it("counts emoji as two units and never splits a surrogate pair", () => {
    // "😀" and "😁" share their high surrogate; a naive diff would replace only the low one.
    const s = diffSplice("a😀b", "a😁b", 3)!;
    expect(s).toEqual({ pos: 1, delete: 2, insert: "😁" });
    const d = diffSplice("x🎉", "x", 1)!;
    expect(d).toEqual({ pos: 1, delete: 2, insert: "" });
    // A flag is two code points (four units); deleting it is one splice of four units.
    expect(diffSplice("🇫🇷!", "!", 0)).toEqual({ pos: 0, delete: 4, insert: "" });
  });

  it("reports a replaced selection as one splice", () => {
    expect(diffSplice("the quick fox", "the slow fox", 8)).toEqual({ pos: 4, delete: 5, insert: "slow" });
  });
});

describe("SpliceTracker", () => {
  it("turns typing, backspace and paste into splices that rebuild the text", () => {
    const start = "Hi";
    const steps: Array<[string, number]> = [
      ["Hi ", 3], ["Hi 😀", 5], ["Hi 😀!", 6], ["Hi 😀", 5], ["Hi ", 3], ["Hi 🌍", 5],
      ["Hi 🌍 pasted text", 17], ["🎉Hi 🌍 pasted text", 2],
    ];
    const { splices, length } = replay(start, steps);
    expect(splices).toHaveLength(steps.length);
    const end = steps[steps.length - 1][0];
    expect(applySplices(start, splices)).toBe(end);
    expect(length).toBe(end.length);
    // No splice starts or ends inside a surrogate pair of the text it applies to.
    let text = start;
    for (const s of splices) {
      for (const at of [s.pos, s.pos + s.delete]) {
        const c = text.charCodeAt(at);
        expect(c >= 0xdc00 && c <= 0xdfff).toBe(false);
      }
      text = applySplices(text, [s]);
    }
  });

  it("keeps the splices of a failed save in order before newer ones", () => {
    const t = new SpliceTracker("");
    t.update("a", 1);
    const first = t.take();
    t.update("ab", 2);
    t.restore(first.splices);
    const again = t.take();
    expect(applySplices("", again.splices)).toBe("ab");
    expect(t.dirty).toBe(false);
  });

  it("matches the text for random edits with emoji", () => {
    const alphabet = ["a", "b", " ", "é", "😀", "🇫🇷", "\n"];
    let seed = 42;
    const rnd = (n: number) => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n; };
    for (let run = 0; run < 200; run++) {
      let text = "start 😀 text";
      const t = new SpliceTracker(text);
      for (let i = 0; i < 20; i++) {
        // Edits at code point boundaries, as an editor makes them.
        const cps = Array.from(text);
        const a = rnd(cps.length + 1);
        const b = Math.min(cps.length, a + (rnd(3) === 0 ? rnd(3) : 0));
        const ins = Array.from({ length: rnd(3) }, () => alphabet[rnd(alphabet.length)]).join("");
        text = cps.slice(0, a).join("") + ins + cps.slice(b).join("");
        t.update(text, cps.slice(0, a).join("").length + ins.length);
      }
      const { splices, length } = t.take();
      expect(applySplices("start 😀 text", splices)).toBe(text);
      expect(length).toBe(text.length);
    }
  });
});
