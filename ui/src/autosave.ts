// Autosave: saves after a pause in typing (and at least every `maxWaitMs` while typing goes
// on), never per keystroke, and reports a calm state.
export type SaveState = "saved" | "unsaved" | "saving" | "error";

export class Autosaver {
  private timer: ReturnType<typeof setTimeout> | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private dirtySince: number | null = null;
  state: SaveState = "saved";

  constructor(
    private readonly delayMs: number,
    private readonly save: () => Promise<void>,
    private readonly onState: (s: SaveState) => void = () => {},
    private readonly maxWaitMs: number = Infinity,
  ) {}

  /** Call on every edit. */
  touch(): void {
    this.set("unsaved");
    const now = Date.now();
    if (this.dirtySince === null) this.dirtySince = now;
    if (this.timer) clearTimeout(this.timer);
    const wait = Math.max(0, Math.min(this.delayMs, this.dirtySince + this.maxWaitMs - now));
    this.timer = setTimeout(() => void this.flush(), wait);
  }

  /** Saves now (for Ctrl+S, switching posts, closing). Resolves when everything is saved. */
  async flush(): Promise<void> {
    if (this.timer) { clearTimeout(this.timer); this.timer = null; }
    if (this.running) { this.again = true; return this.running; }
    if (this.state === "saved") return;
    this.dirtySince = null;
    this.set("saving");
    this.running = (async () => {
      try {
        do { this.again = false; await this.save(); } while (this.again);
        this.set("saved");
      } catch {
        this.set("error");
      } finally {
        this.running = null;
      }
    })();
    return this.running;
  }

  private set(s: SaveState) { this.state = s; this.onState(s); }
}
