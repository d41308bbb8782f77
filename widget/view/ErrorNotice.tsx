import { h } from 'preact';
import { reactive } from './reactive';

/** The error of the last question, in words from `strings.errors`, with Retry when retrying can help. */
export const ErrorNotice = reactive((_props, { chat, strings, ui }) => {
  const error = chat.error.value;
  const s = strings.value;
  if (!error) {
    return ui.online.value ? null : (
      <div class="hint" role="status">
        {s.offline}
      </div>
    );
  }
  const seconds = error.retryAfterMs ? Math.ceil(error.retryAfterMs / 1000) : 0;
  return (
    <div part="error" class="error" role="alert">
      <span>
        {s.errors[error.code]}
        {seconds > 0 ? ` (${seconds} s)` : ''}
      </span>
      {error.code !== 'config' && (
        <button type="button" part="retry" class="retry" onClick={() => void chat.retry()}>
          {s.retry}
        </button>
      )}
    </div>
  );
});
