// What the dialogs of the writing screen may read and do on it (the screen makes one).
import type { Overview, Post, PostSummary } from "../api";

/** The writing screen, as its dialogs see it. */
export interface Screen {
  /** The post in the editor, if any; setting it updates what the screen knows of it. */
  current: Post | null;
  /** The overview the screen was drawn with (spokes change it). */
  overview: Overview;
  /** Saves what was typed and not saved yet. */
  flush(): Promise<void>;
  /** The editor's text now. */
  text(): string;
  /** Opens post `id` in the editor. */
  open(id: string): Promise<void>;
  /** Reads the post list again and shows it. */
  refreshList(): Promise<PostSummary[]>;
  /** Reads where the blog is published and shows it. */
  refreshStatus(): Promise<void>;
  /** Shows Publish or Schedule, Unpublish or Delete, for the current post. */
  showPostActions(): void;
  /** Shows where readers find the blog. */
  showLink(o: Overview): void;
  /** A spoke was added (`o` lists it): the sidebar says so and where the blog is published. */
  spokeAdded(o: Overview): Promise<void>;
  /** Checks the spelling of the text in `language` (the blog's, a BCP 47 tag); the dictionaries
   *  taken (none: this computer has none for it). */
  spellIn(language: string): Promise<string[]>;
  /** The screen's error line. */
  err: HTMLElement;
  /** The screen's status line. */
  status: HTMLElement;
}
