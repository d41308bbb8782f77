import { signal, type Signal } from '@preact/signals-core';

/** View-only state, kept apart so chat logic never mentions the UI (style guide, model/). */
export interface UiModel {
  readonly isOpen: Signal<boolean>;
  /** Text typed but not yet sent; survives closing the panel. */
  readonly draft: Signal<string>;
  /** False after the browser's `offline` event, until `online`. A hint only: sending stays enabled (reliability D13). */
  readonly online: Signal<boolean>;
  /** The visitor's rating of each answer, by message id. */
  readonly feedback: Signal<Record<string, 'up' | 'down'>>;
  /** The answer just copied (its button reads "Copied" for a moment), else null. */
  readonly copied: Signal<string | null>;
}

export function createUiModel(initial: { open?: boolean; draft?: string } = {}): UiModel {
  return {
    isOpen: signal(initial.open ?? false),
    draft: signal(initial.draft ?? ''),
    online: signal(true),
    feedback: signal({}),
    copied: signal(null),
  };
}
