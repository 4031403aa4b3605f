// Small helpers every screen and dialog uses: making elements, the theme, start timings.
import type { SaveState } from "./autosave";
import { LANGUAGE_NAMES, language, savedLanguage, t, type Language, type LanguageChoice } from "./i18n";

/** The element the screens are drawn in. */
export const root = document.getElementById("app")!;

/** The writer's theme: follow the system, or always light, or always dark (kept on this computer). */
export type Theme = "auto" | "light" | "dark";
/** The theme button's words for `th`. */
export const themeWords = (th: Theme) => t(`theme-${th}`);
export function applyTheme(t: Theme) {
  if (t === "auto") delete document.documentElement.dataset.theme; else document.documentElement.dataset.theme = t;
}
export function savedTheme(): Theme {
  const t = localStorage.getItem("theme");
  return t === "light" || t === "dark" ? t : "auto";
}

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...kids: (Node | string)[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  for (const k of kids) el.append(k);
  return el;
}

export function field(label: string, input: HTMLInputElement | HTMLSelectElement): HTMLElement {
  return h("label", {}, h("span", {}, label), input);
}

/** The languages blogs are most often written in (BCP 47 tags), offered by name for the blog. */
export const BLOG_LANGUAGES = ["af", "ar", "bg", "bn", "ca", "cs", "cy", "da", "de", "el", "en", "eo", "es", "et", "eu", "fa", "fi", "fr", "ga", "gl", "he", "hi", "hr", "hu", "hy", "id", "is", "it", "ja", "ka", "ko", "lt", "lv", "mk", "ms", "nb", "nl", "nn", "pl", "pt", "pt-BR", "ro", "ru", "sk", "sl", "sq", "sr", "sv", "sw", "ta", "th", "tr", "uk", "ur", "vi", "zh-Hans", "zh-Hant"];

/** A language's name in the app's language (`fi` is "Finnish" in English, "Finnisch" in German); the tag itself when it has none. */
export function languageName(tag: string): string {
  try {
    return new Intl.DisplayNames([language()], { type: "language" }).of(tag) ?? tag;
  } catch {
    return tag; // not a well-formed tag
  }
}

/**
 * The blog's language, chosen by name from {@link BLOG_LANGUAGES} sorted in the app's language;
 * a blog in another language (a tag set elsewhere) keeps it, listed by its name too.
 */
export function blogLanguageSelect(id: string, current: string): HTMLSelectElement {
  const tags = current && !BLOG_LANGUAGES.includes(current) ? [...BLOG_LANGUAGES, current] : BLOG_LANGUAGES;
  const named = tags.map((tag) => ({ tag, name: languageName(tag) })).sort((a, b) => a.name.localeCompare(b.name, language()));
  const select = h("select", { id }, ...named.map(({ tag, name }) => h("option", { value: tag, lang: tag }, name)));
  select.value = current || "en";
  return select;
}

/**
 * The choice of language: like the system, or one the app speaks (each named in itself).
 * Choosing saves it on this computer and draws the window again in it, after `before` (the
 * writing screen saves what was typed first).
 */
export function languageSelect(id: string, before: () => Promise<void> = async () => {}): HTMLElement {
  const choice = savedLanguage();
  const select = h("select", { id },
    h("option", { value: "auto" }, t("language-auto", { language: LANGUAGE_NAMES[language()] })),
    ...(Object.keys(LANGUAGE_NAMES) as Language[]).map((l) => h("option", { value: l, lang: l }, LANGUAGE_NAMES[l])));
  select.value = choice;
  select.addEventListener("change", async () => {
    await before();
    localStorage.setItem("language", select.value as LanguageChoice);
    location.reload();
  });
  return h("label", { class: "language" }, h("span", {}, t("language-label")), select);
}

export function errorLine(): HTMLParagraphElement {
  return h("p", { class: "error", role: "alert", id: "error" });
}

/** Milliseconds since the page began loading at each step of the first screen (benchmarks read it). */
export const startTimings: Record<string, number> = ((window as unknown as { spokesStart: Record<string, number> }).spokesStart = {});
export const mark = (step: string) => { startTimings[step] = Math.round(performance.now()); };
/** Milliseconds each step of the last post opened from the list took (benchmarks read it). */
export const openTimings: Record<string, number> = ((window as unknown as { spokesOpen: Record<string, number> }).spokesOpen = {});

/** Whether the writer is typing in a field other than the editor's own (focus stays there). */
export function typing(): boolean {
  const a = document.activeElement;
  return a instanceof HTMLInputElement && a.id !== "title";
}

/** The save line's words for `s`. */
export const saveWords = (s: SaveState) => t(`save-${s}`);
