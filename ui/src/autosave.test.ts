import { describe, expect, it, vi } from "vitest";
import { Autosaver, type SaveState } from "./autosave";

describe("Autosaver", () => {
  it("saves once after a pause in typing, not per keystroke", async () => {
    vi.useFakeTimers();
    const save = vi.fn(async () => {});
    const states: SaveState[] = [];
    const a = new Autosaver(800, save, (s) => states.push(s));
    for (let i = 0; i < 10; i++) { a.touch(); vi.advanceTimersByTime(100); }
    expect(save).not.toHaveBeenCalled();
    vi.advanceTimersByTime(800);
    await vi.waitFor(() => expect(a.state).toBe("saved"));
    expect(save).toHaveBeenCalledTimes(1);
    expect(states[states.length - 1]).toBe("saved");
    vi.useRealTimers();
  });

  it("flush saves immediately and reports errors without losing the unsaved state", async () => {
    let fail = true;
    const a = new Autosaver(10_000, async () => { if (fail) throw new Error("disk"); });
    a.touch();
    await a.flush();
    expect(a.state).toBe("error");
    fail = false;
    a.touch();
    await a.flush();
    expect(a.state).toBe("saved");
  });

  it("an edit during a save triggers one more save", async () => {
    let release!: () => void;
    let calls = 0;
    const a = new Autosaver(10_000, () => { calls++; return calls === 1 ? new Promise<void>((r) => (release = r)) : Promise.resolve(); });
    a.touch();
    const first = a.flush();
    a.touch();
    const second = a.flush();
    release();
    await Promise.all([first, second]);
    expect(calls).toBe(2);
    expect(a.state).toBe("saved");
  });
  it("saves at least every maxWait while typing goes on", async () => {
    vi.useFakeTimers();
    try {
      const save = vi.fn(async () => {});
      const a = new Autosaver(700, save, () => {}, 1000);
      // Steady typing, a key every 100 ms for 3.05 s: no pause long enough for the debounce.
      for (let t = 0; t <= 3000; t += 100) { a.touch(); await vi.advanceTimersByTimeAsync(100); }
      expect(save.mock.calls.length).toBeGreaterThanOrEqual(3);
      expect(save.mock.calls.length).toBeLessThanOrEqual(4);
    } finally {
      vi.useRealTimers();
    }
  });
});
