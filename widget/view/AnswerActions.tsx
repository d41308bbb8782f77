import { h } from 'preact';
import type { Message } from '../core/types';
import { reactive } from './reactive';

/**
 * Under a finished answer: copy it (its markdown source) and rate it. A rating is a pressed toggle
 * button; pressing it again takes the rating back. Both ratings emit `feedback`.
 */
export const AnswerActions = reactive<{ message: Message }>(({ message }, { strings, ui, rate, copyAnswer }) => {
  const s = strings.value;
  const rating = ui.feedback.value[message.id];
  const thumb = (value: 'up' | 'down', label: string, glyph: string) => (
    <button
      type="button"
      part={`feedback ${value}`}
      class="act"
      aria-label={label}
      aria-pressed={rating === value}
      onClick={() => rate(message.id, rating === value ? null : value)}
    >
      {glyph}
    </button>
  );
  return (
    <div part="actions" class="actions">
      <button type="button" part="copy-answer" class="act" onClick={() => copyAnswer(message)}>
        {ui.copied.value === message.id ? s.copied : s.copyAnswer}
      </button>
      {thumb('up', s.helpful, '👍')}
      {thumb('down', s.notHelpful, '👎')}
    </div>
  );
});
