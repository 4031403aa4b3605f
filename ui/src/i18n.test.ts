/// <reference types="vite/client" />
import { describe, expect, it, afterEach } from "vitest";
import { FluentBundle, FluentResource } from "@fluent/bundle";
import codes from "./generated/Code.ts?raw";
import { CATALOGUES, locale, longDate, num, pickLanguage, problemText, t, useLanguage, type Language } from "./i18n";

/** Every source file of the UI, as text (the catalogue must hold each message they ask for). */
const SOURCES = import.meta.glob(["./**/*.ts", "!./**/*.test.ts", "!./generated/**"], { query: "?raw", import: "default", eager: true }) as Record<string, string>;
const ids = (ftl: string) => Array.from(ftl.matchAll(/^([a-z][a-z0-9-]*) =/gm), (m) => m[1]);

afterEach(() => useLanguage("en", ["en-US"]));

describe("the catalogues", () => {
  it("parse whole: every message in the file is one the bundle holds", () => {
    for (const l of Object.keys(CATALOGUES) as Language[]) {
      const res = new FluentResource(CATALOGUES[l]);
      // Fluent skips what it cannot parse ("junk"): a message lost that way is counted here.
      expect(res.body.map((m) => m.id), l).toEqual(ids(CATALOGUES[l]));
    }
  });

  it("hold the same messages in German as in English, and German has a sentence for every error code", () => {
    const en = ids(CATALOGUES.en), de = ids(CATALOGUES.de);
    expect(de.filter((id) => !id.startsWith("error-")).sort()).toEqual([...en].sort());
    const all = Array.from(codes.matchAll(/"([a-z-]+)"/g), (m) => m[1]);
    expect(all.length).toBeGreaterThan(50);
    expect(all.filter((c) => !de.includes(`error-${c}`))).toEqual([]);
  });

  it("hold every message the UI asks for", () => {
    const en = new Set(ids(CATALOGUES.en));
    const asked = new Set<string>();
    for (const src of Object.values(SOURCES)) for (const m of src.matchAll(/\bt\("([a-z0-9-]+)"/g)) asked.add(m[1]);
    // IDs made from a state or a code: each family whole.
    for (const s of ["draft", "unpublished", "changed", "scheduled", "published"]) asked.add(`state-${s}`);
    for (const s of ["draft", "unpublished", "changed"]) asked.add(`post-status-${s}`);
    for (const s of ["auto", "light", "dark"]) asked.add(`theme-${s}`);
    for (const s of ["saved", "unsaved", "saving", "error"]) asked.add(`save-${s}`);
    for (const s of ["section-index", "readme", "build-or-theme", "site-page", "not-writing", "trashed"]) asked.add(`skip-${s}`);
    for (const s of ["elsewhere", "not-set-up", "unchecked", "up-to-date"]) asked.add(`update-${s}`);
    // spokes_core::import::ImportNote::code (the Rust side checks it words each of its codes).
    for (const s of ["unreadable-date", "date-from-file", "date-from-import", "picture-missing", "picture-not-beside", "picture-not-kept",
      "picture-unreadable", "was-private", "plain-text-only", "shortcodes", "formatting-too-large", "formatting-unreadable"]) asked.add(`note-${s}`);
    for (const s of ["connection", "refused", "malformed", "io", "too-large"]) asked.add(`update-error-${s}`);
    expect(asked.size).toBeGreaterThan(250);
    expect([...asked].filter((id) => !en.has(id))).toEqual([]);
  });

  it("format every message in both languages without an error", () => {
    const args = { n: 2, total: 3, up: 1, minutes: 4, title: "T", name: "N", path: "/p", day: "d", when: "w", device: "x", reason: "r",
      domain: "d", language: "L", missing: "m", pictures: 1, log: "/l", version: "0.2.0", current: "0.1.0", percent: "40",
      date: "2026-12-07", choice: "c", file: "recovery.json", i: 1, field: "date", value: "v", src: "a.png", list: "[gallery]" };
    for (const l of Object.keys(CATALOGUES) as Language[]) {
      const b = new FluentBundle(l, { useIsolating: false });
      b.addResource(new FluentResource(CATALOGUES[l]));
      for (const id of ids(CATALOGUES[l])) {
        const errors: Error[] = [];
        const text = b.formatPattern(b.getMessage(id)!.value!, args, errors);
        expect(errors.map(String), `${l} ${id}`).toEqual([]);
        expect(text.trim().length, `${l} ${id}`).toBeGreaterThan(0);
      }
    }
  });
});

describe("the language", () => {
  it("follows the system's first language the app speaks, else English", () => {
    expect(pickLanguage("auto", ["fr-FR", "de-AT", "en-US"])).toBe("de");
    expect(pickLanguage("auto", ["en-GB", "de-DE"])).toBe("en");
    expect(pickLanguage("auto", ["fr-FR"])).toBe("en");
    expect(pickLanguage("auto", [])).toBe("en");
    expect(pickLanguage("de", ["en-US"])).toBe("de");
  });

  it("speaks German with German plurals, numbers and dates, and errors by their code", () => {
    useLanguage("de", ["de-AT", "en-US"]);
    expect(locale()).toBe("de-AT");
    expect(t("word-count", { n: 1 })).toBe("1 Wort");
    expect(t("word-count", { n: 1000 })).toBe("1.000 Wörter");
    expect(t("status-published", { up: 2, total: 2 })).toBe("Veröffentlicht auf 2 von 2 Spokes");
    // Dates in the system's own German (Austria says Jänner), numbers too.
    expect(longDate("2026-01-05T12:00:00Z")).toBe("5. Jänner 2026");
    useLanguage("de", ["de-DE"]);
    expect(num(12345)).toBe("12.345");
    expect(longDate("2026-01-05T12:00:00Z")).toBe("5. Januar 2026");
    expect(problemText("wrong-passphrase", "That passphrase is not right.")).toBe("Die Passphrase stimmt nicht.");
    // What an error is about comes along, as it is: the file a German writer must look at.
    expect(problemText("io", "could not use /home/ada/blog.xml: Permission denied", "/home/ada/blog.xml: Permission denied")).toBe(`${t("error-io")} (/home/ada/blog.xml: Permission denied)`);
    expect(problemText("io", "could not use /home/ada/blog.xml: Permission denied", "/home/ada/blog.xml: Permission denied")).toContain("/home/ada/blog.xml");
    // A message only English has would show in English, never as an ID.
    expect(t("no-such-message")).toBe("no-such-message");
  });

  it("speaks English with the sentence Rust wrote for an error", () => {
    useLanguage("en", ["en-GB"]);
    expect(t("status-published", { up: 1, total: 1 })).toBe("Published to 1 of 1 spoke");
    expect(t("word-count", { n: 1000 })).toBe("1,000 words");
    expect(longDate("2026-01-05T12:00:00Z")).toBe("5 January 2026");
    expect(problemText("wrong-passphrase", "That passphrase is not right.")).toBe("That passphrase is not right.");
    expect(problemText("io", "Could not use /x: gone", "/x: gone")).toBe("Could not use /x: gone");
  });
});
