// @vitest-environment happy-dom
import { describe, expect, it } from "vitest";
import { OVERSCAN, RowList } from "./rowlist";

/** A list host of `view` pixels whose rows are `row` pixels tall (happy-dom lays nothing out). */
function host(view: number, row: number) {
  const el = document.createElement("div");
  Object.defineProperty(el, "clientHeight", { get: () => view });
  document.body.append(el);
  const list = new RowList<number>(el, (n, i) => {
    const li = document.createElement("li");
    li.dataset.index = String(i);
    li.textContent = `post ${n}`;
    li.getBoundingClientRect = () => ({ height: row, width: 200, top: 0, left: 0, bottom: row, right: 200, x: 0, y: 0, toJSON: () => ({}) });
    return li;
  });
  return { el, list };
}

const drawn = (el: HTMLElement) => Array.from(el.querySelectorAll("li")).map((li) => Number(li.dataset.index));

describe("RowList", () => {
  it("draws only the rows in view and a few around them, however many items there are", () => {
    const { el, list } = host(320, 32);
    list.set(Array.from({ length: 10_000 }, (_, i) => i));
    expect(list.count).toBe(10_000);
    expect(el.dataset.count).toBe("10000");
    const first = drawn(el);
    expect(first[0]).toBe(0);
    expect(first.length).toBe(10 + 2 * OVERSCAN + 1);
    // The spacer is as tall as every row, so the scroll bar is the whole list's.
    expect((el.firstElementChild as HTMLElement).style.height).toBe(`${10_000 * 32}px`);

    el.scrollTop = 5_000 * 32;
    list.redraw();
    const middle = drawn(el);
    expect(middle).toContain(5_000);
    expect(middle).toContain(5_009);
    expect(middle.length).toBeLessThanOrEqual(10 + 2 * OVERSCAN + 1);
    expect(el.querySelector("ul")!.style.transform).toBe(`translateY(${middle[0] * 32}px)`);
  });

  it("scrolls an item into view only when it is out of view", () => {
    const { el, list } = host(320, 32);
    list.set(Array.from({ length: 1_000 }, (_, i) => i));
    list.reveal(3);
    expect(el.scrollTop).toBe(0);
    list.reveal(999);
    expect(el.scrollTop).toBe(999 * 32 + 32 - 320);
    expect(drawn(el)).toContain(999);
    list.reveal(10);
    expect(el.scrollTop).toBe(10 * 32);
    list.reveal(-1); // not in the list (filtered out): nothing moves
    expect(el.scrollTop).toBe(10 * 32);
  });

  it("shows the empty row when nothing is left, and the items again after", () => {
    const { el, list } = host(320, 32);
    const none = document.createElement("li");
    none.textContent = "No post matches.";
    list.set([], none);
    expect(el.textContent).toBe("No post matches.");
    expect(el.dataset.count).toBe("0");
    list.set([7, 8]);
    expect(drawn(el)).toEqual([0, 1]);
    expect(el.textContent).toBe("post 7post 8");
  });
});
