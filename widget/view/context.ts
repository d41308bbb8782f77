import { createContext } from 'preact';
import type { Strings } from '../core/strings';
import type { ChatModel } from '../model/chat-model';
import type { UiModel } from '../model/ui-model';

/** What the view needs to know about the embedding; fixed for the life of one mount. */
export interface ViewConfig {
  mode: 'bubble' | 'inline';
  welcome: string | undefined;
  suggestions: string[];
  imageHosts: string[];
  /** The page URL, for resolving relative links in answers. */
  pageUrl: string | undefined;
  /** Unique per mount, for aria-controls / aria-labelledby inside this shadow root. */
  idPrefix: string;
}

export interface ViewContext {
  chat: ChatModel;
  ui: UiModel;
  config: ViewConfig;
  /** Live so `title`, `placeholder` and `locale` can change after mount. */
  strings: { value: Strings & { title: string; placeholder: string } };
  /** Ask the host to open/close (emits events, restores focus). */
  setOpen(open: boolean): void;
}

/** The models of this mount (one set per mount, never a module singleton). */
export const Ctx = createContext<ViewContext>(null as unknown as ViewContext);
