// The app's words, from Fluent catalogues (https://projectfluent.org): ./locales/en.ftl and
// ./locales/de.ftl. The same files give the menu bar and the desktop notifications their
// words on the Rust side (src-tauri/src/i18n.rs), so every string a writer reads has one home.
// Dates and numbers follow the system's locale where it speaks the chosen language.
import { FluentBundle, FluentResource, type FluentVariable } from "@fluent/bundle";
import en from "./locales/en.ftl?raw";
import de from "./locales/de.ftl?raw";
import type { Code } from "./generated/Code";

/** The languages the app speaks, by BCP 47 primary language subtag. */
export type Language = "en" | "de";
/** The writer's choice: follow the system, or one language (kept on this computer). */
export type LanguageChoice = "auto" | Language;
/** Each catalogue's FTL source. */
export const CATALOGUES: Record<Language, string> = { en, de };
/** Each language's name in itself (what a choice of language shows, whatever the app speaks). */
export const LANGUAGE_NAMES: Record<Language, string> = { en: "English", de: "Deutsch" };

function bundleOf(l: Language): FluentBundle {
  // No isolation marks: the app is left to right only, and the marks would reach copied text.
  const b = new FluentBundle(l, { useIsolating: false });
  b.addResource(new FluentResource(CATALOGUES[l]));
  return b;
}

const english = bundleOf("en");
let bundle = english;
let current: Language = "en";
let systemLocales: readonly string[] = typeof navigator === "undefined" ? [] : navigator.languages ?? [navigator.language];

/** The language the app speaks now. */
export function language(): Language { return current; }

/** The writer's saved choice ("auto" when none, or when the saved one is unknown). */
export function savedLanguage(): LanguageChoice {
  const v = typeof localStorage === "undefined" ? null : localStorage.getItem("language");
  return v === "en" || v === "de" ? v : "auto";
}

/**
 * The language for `choice`: itself, or for "auto" the first of `preferred` (BCP 47 tags,
 * most wanted first, as `navigator.languages`) the app speaks; English when none is.
 */
export function pickLanguage(choice: LanguageChoice, preferred: readonly string[]): Language {
  if (choice !== "auto") return choice;
  for (const tag of preferred) {
    const primary = tag.toLowerCase().split(/[-_]/)[0];
    if (primary === "de" || primary === "en") return primary;
  }
  return "en";
}

/**
 * Speaks `l` from now on (the page's `lang` too). `preferred` stands in for the system's
 * locales (tests).
 */
export function useLanguage(l: Language, preferred: readonly string[] = systemLocales) {
  current = l;
  systemLocales = preferred;
  bundle = l === "en" ? english : bundleOf(l);
  if (typeof document !== "undefined") document.documentElement.lang = l;
}

/**
 * The locale dates and numbers are written in: the system's own when it speaks the app's
 * language (en-GB writes 7 December 2026, de-AT writes Jänner), else the language alone.
 */
export function locale(): string {
  return systemLocales.find((tag) => tag.toLowerCase().split(/[-_]/)[0] === current) ?? current;
}

/**
 * The message `id` with `args` filled in (numbers in the locale's digits, plurals by its
 * rules). A message the chosen catalogue lacks comes from English; an unknown ID is returned
 * as it is, so a missing message shows and the catalogue test names it.
 */
export function t(id: string, args?: Record<string, FluentVariable>): string {
  for (const b of [bundle, english]) {
    const m = b.getMessage(id);
    if (m?.value) return b.formatPattern(m.value, args);
  }
  return id;
}

/** Whether the chosen catalogue (not English's) has message `id`. */
export function has(id: string): boolean {
  return bundle.hasMessage(id);
}

/**
 * The sentence for an error from Rust: in English the sentence Rust wrote (it names the
 * details); in another language the catalogue's sentence for its stable `code`.
 */
export function problemText(code: Code, message: string, detail?: string): string {
  if (current === "en") return message;
  if (!has(`error-${code}`)) return message;
  // What it is about (a file, a lower error's words) is in no language: shown as it came.
  return detail ? `${t(`error-${code}`)} (${detail})` : t(`error-${code}`);
}

/** A date as the locale writes it, in words (`7 December 2026`, `7. Dezember 2026`). */
export function longDate(d: Date | string | number): string {
  return new Date(d).toLocaleDateString(locale(), { year: "numeric", month: "long", day: "numeric" });
}
/** A date, short (`Dec 7, 2026`, `07.12.2026`). */
export function mediumDate(d: Date | string | number): string {
  return new Date(d).toLocaleDateString(locale(), { dateStyle: "medium" });
}
/** A date and time of day (`Dec 7, 2026, 3:07 PM`, `07.12.2026, 15:07`); `seconds` adds them. */
export function dateTime(d: Date | string | number, seconds = false): string {
  return new Date(d).toLocaleString(locale(), { dateStyle: "medium", timeStyle: seconds ? "medium" : "short" });
}
/** A whole number as the locale writes it (`1,234`, `1.234`). */
export function num(n: number): string {
  return n.toLocaleString(locale());
}

useLanguage(pickLanguage(savedLanguage(), systemLocales));
