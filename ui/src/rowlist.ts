// A list that draws only the rows in view, so that a blog of 10,000 posts costs the page
// about as much as one of 30: the page holds a few dozen row elements whatever the number of
// items, and marking the open post or filtering touches only those. Rows have one fixed
// height (the first drawn row is measured once); a title too long for its row ends in "…".

/** How many rows are drawn above and below the ones in view, so scrolling shows no gap. */
export const OVERSCAN = 8;

/** Rows drawn when the list's height is not known yet (before the first layout). */
const FIRST_ROWS = 40;

/**
 * The scrolling element `host` (a `ul`'s parent), filled with a spacer as tall as every row
 * and a `ul` holding the rows in view. `render` makes one row (`li`) for an item.
 */
export class RowList<T> {
  private items: T[] = [];
  private rowHeight = 0;
  private viewHeight = 0;
  private first = -1;
  private last = -1;
  private readonly space: HTMLElement;
  /** The rows' element; `li` children are the drawn rows. */
  readonly rows: HTMLUListElement;
  private scheduled = false;
  private empty: HTMLElement | null = null;

  constructor(readonly host: HTMLElement, private readonly render: (item: T, index: number) => HTMLLIElement) {
    this.space = document.createElement("div");
    this.space.className = "row-space";
    this.rows = document.createElement("ul");
    this.rows.className = "rows";
    this.rows.setAttribute("role", "presentation"); // the host is the list (a listbox): rows are its options
    this.space.append(this.rows);
    host.replaceChildren(this.space);
    host.addEventListener("scroll", () => this.schedule(), { passive: true });
    if (typeof ResizeObserver !== "undefined") {
      new ResizeObserver(() => { this.viewHeight = host.clientHeight; this.schedule(); }).observe(host);
    }
  }

  /** How many items the list holds (drawn or not). */
  get count(): number { return this.items.length; }

  /** Replaces the items; `empty` (a row with no item) is shown when there are none. */
  set(items: T[], empty: HTMLLIElement | null = null) {
    this.items = items;
    this.empty = empty;
    this.host.dataset.count = String(items.length);
    this.redraw();
  }

  /** Draws the rows in view again (for example after the open post changed). */
  redraw() {
    this.first = -1;
    this.last = -1;
    this.draw();
  }

  /** Scrolls so that item `index` is in view (nothing moves when it already is). */
  reveal(index: number) {
    if (index < 0 || index >= this.items.length) return;
    const h = this.measure();
    const top = index * h;
    const view = this.viewHeight || this.host.clientHeight;
    if (top < this.host.scrollTop) this.host.scrollTop = top;
    else if (top + h > this.host.scrollTop + view) this.host.scrollTop = top + h - view;
    this.draw();
  }

  private schedule() {
    if (this.scheduled) return;
    this.scheduled = true;
    requestAnimationFrame(() => { this.scheduled = false; this.draw(); });
  }

  /** The row height in pixels: measured on the first row drawn, then kept. */
  private measure(): number {
    if (this.rowHeight > 0) return this.rowHeight;
    const row = this.rows.firstElementChild as HTMLElement | null;
    const h = row?.getBoundingClientRect().height ?? 0;
    if (h > 0) this.rowHeight = h;
    return h > 0 ? h : 32;
  }

  private draw() {
    const n = this.items.length;
    if (n === 0) {
      this.space.style.height = "";
      this.rows.style.transform = "";
      this.rows.replaceChildren(...(this.empty ? [this.empty] : []));
      this.first = this.last = -1;
      return;
    }
    const measured = this.rowHeight > 0;
    const h = this.measure();
    const view = this.viewHeight || this.host.clientHeight;
    const top = this.host.scrollTop;
    const first = measured || view > 0 ? Math.max(0, Math.floor(top / h) - OVERSCAN) : 0;
    const shown = view > 0 ? Math.ceil(view / h) + 2 * OVERSCAN + 1 : FIRST_ROWS;
    const last = Math.min(n, first + shown);
    if (first === this.first && last === this.last) return;
    this.first = first;
    this.last = last;
    const rows: HTMLLIElement[] = [];
    for (let i = first; i < last; i++) rows.push(this.render(this.items[i], i));
    this.rows.replaceChildren(...rows);
    this.rows.style.transform = `translateY(${first * h}px)`;
    this.space.style.height = `${n * h}px`;
    // The first rows in the page give the row height: draw again with it.
    if (!measured) {
      this.measure();
      if (this.rowHeight > 0) this.redraw();
    }
  }
}
