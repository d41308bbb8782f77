import type { Strings } from '../core/strings';
import type { Message } from '../core/types';
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
  /** Live so `title`, `placeholder` and `locale` can change after mount; `lang` is the language shown. */
  strings: { value: Strings & { lang: string; rtl: boolean } };
  /** Ask the host to open/close (emits events, restores focus). */
  setOpen(open: boolean): void;
  /** Rate an answer (null takes the rating back); emits `feedback`. */
  rate(messageId: string, value: 'up' | 'down' | null): void;
  /** Clear the conversation and what was stored for it (`reset()`). */
  clear(): void;
  /** Copy an answer's markdown to the clipboard; `ui.copied` names it for a moment. */
  copyAnswer(message: Message): void;
}

