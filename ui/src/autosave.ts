// Autosave: saves after a pause in typing, never per keystroke, and reports a calm state.
export type SaveState = "saved" | "unsaved" | "saving" | "error";

export class Autosaver {
  private timer: ReturnType<typeof setTimeout> | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  state: SaveState = "saved";

  constructor(
    private readonly delayMs: number,
    private readonly save: () => Promise<void>,
    private readonly onState: (s: SaveState) => void = () => {},
  ) {}

  /** Call on every edit. */
  touch(): void {
    this.set("unsaved");
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.flush(), this.delayMs);
  }

  /** Saves now (for Ctrl+S, switching posts, closing). Resolves when everything is saved. */
  async flush(): Promise<void> {
    if (this.timer) { clearTimeout(this.timer); this.timer = null; }
    if (this.running) { this.again = true; return this.running; }
    if (this.state === "saved") return;
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
