import type { ErrorCode } from './types';

/** Every piece of text the widget shows or announces; override any of them with `strings`. */
export interface Strings {
  /** Panel title, default for `title`. */
  title: string;
  placeholder: string;
  /** Accessible name of the launcher when the panel is closed / open. */
  openChat: string;
  closeChat: string;
  close: string;
  send: string;
  stop: string;
  retry: string;
  copy: string;
  copied: string;
  /** Accessible label of the text box. */
  inputLabel: string;
  /** Screen-reader prefixes of a message. */
  you: string;
  assistant: string;
  connecting: string;
  thinking: string;
  stopped: string;
  /** Notice appended when an answer is cut at the size cap. */
  truncated: string;
  /** Link text for an image that was not loaded (followed by its host). */
  image: string;
  suggestions: string;
  offline: string;
  /**
   * Shown instead of `errors.config` when the page's Content-Security-Policy blocked the token or
   * chat request (reliability.md B4).
   */
  cspBlocked: string;
  /** The answer controls: copy the whole answer, rate it; and the header's clear button. */
  copyAnswer: string;
  helpful: string;
  notHelpful: string;
  clear: string;
  /** One short, human message per error code (embed.md section 3). */
  errors: Record<ErrorCode, string>;
}

export const en: Strings = {
  title: 'Ask AI',
  placeholder: 'Ask a question…',
  openChat: 'Open chat',
  closeChat: 'Close chat',
  close: 'Close',
  send: 'Send',
  stop: 'Stop',
  retry: 'Retry',
  copy: 'Copy',
  copied: 'Copied',
  inputLabel: 'Your question',
  you: 'You',
  assistant: 'Assistant',
  connecting: 'Connecting…',
  thinking: 'Thinking…',
  stopped: 'Stopped',
  truncated: 'This answer was too long and has been cut short.',
  image: 'Image:',
  suggestions: 'Suggested questions',
  offline: 'You appear to be offline.',
  cspBlocked: "Blocked by the site's Content Security Policy (connect-src).",
  copyAnswer: 'Copy answer',
  helpful: 'Helpful',
  notHelpful: 'Not helpful',
  clear: 'Clear conversation',
  errors: {
    config: 'The chat is not set up correctly on this page.',
    token: 'Could not connect to the chat service.',
    auth: 'Chat is unavailable on this page.',
    rate_limited: 'The assistant is busy. Please try again in a moment.',
    network: 'Network problem. Check your connection and try again.',
    interrupted: 'The answer was interrupted.',
    server: 'The assistant ran into a problem.',
    bad_response: 'The assistant sent a response the chat could not read.',
  },
};

/** Defaults merged with overrides; `errors` merges per code. */
export function resolveStrings(overrides: Partial<Strings> | undefined): Strings {
  if (!overrides) return en;
  return { ...en, ...overrides, errors: { ...en.errors, ...overrides.errors } };
}
