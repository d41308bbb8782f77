import { h } from 'preact';
import { reactive } from './reactive';
import { Icon } from './icons';

/** Text box with Send, or Stop while an answer is in flight. Enter sends; Shift+Enter adds a line. */
export const Composer = reactive((_props, { chat, ui, strings, config }) => {
  const s = strings.value;
  const busy = chat.busy.value;
  const submit = () => {
    const text = ui.draft.value;
    if (busy || text.trim() === '') return;
    ui.draft.value = '';
    void chat.send(text);
  };
  return (
    // A div, not a <form>: the widget contains no form element (hardening invariant), and no host
    // form handler can catch a submit.
    <div class="composer">
      <textarea
        part="input"
        class="input"
        id={`${config.idPrefix}-input`}
        rows={1}
        maxLength={8000}
        placeholder={s.placeholder}
        aria-label={s.inputLabel}
        value={ui.draft.value}
        onInput={(e) => {
          ui.draft.value = e.currentTarget.value;
        }}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
            e.preventDefault();
            submit();
          }
        }}
      />
      {busy ? (
        <button type="button" part="stop" class="action stop" aria-label={s.stop} onClick={() => chat.stop()}>
          <Icon name="stop" />
        </button>
      ) : (
        <button
          type="button"
          part="send"
          class="action send"
          aria-label={s.send}
          disabled={ui.draft.value.trim() === ''}
          onClick={submit}
        >
          <Icon name="send" />
        </button>
      )}
    </div>
  );
});
