// The guide for writers in each language the app speaks (docs/guide*.md, shown by Help →
// Guide): the same sections in the same order, and every picture it shows is in the repository.
import { describe, expect, it } from "vitest";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import guideEn from "../../docs/guide.md?raw";
import guideDe from "../../docs/guide.de.md?raw";

const GUIDES = { en: guideEn, de: guideDe };
const docs = fileURLToPath(new URL("../../docs/", import.meta.url));

describe("the guide for writers", () => {
  it("has the same sections and pictures' places in English and German", () => {
    const shape = (md: string) => md.split("\n").filter((l) => l.startsWith("#") || l.startsWith("![")).map((l) => l.replace(/[^#!].*$/, ""));
    expect(shape(GUIDES.de)).toEqual(shape(GUIDES.en));
    expect(shape(GUIDES.en).filter((s) => s === "##").length).toBeGreaterThan(5);
  });

  it("shows only pictures that exist", () => {
    for (const md of Object.values(GUIDES)) {
      const pictures = [...md.matchAll(/!\[[^\]]*\]\(([^)]+)\)/g)].map((m) => m[1]);
      expect(pictures.length).toBeGreaterThan(2);
      for (const p of pictures) expect(existsSync(docs + p), p).toBe(true);
    }
  });
});
