import { useLayoutEffect, useRef } from 'preact/hooks';
import { useView } from './context';
import { MessageItem } from './MessageItem';

/**
 * The conversation log. `role="log"` with `aria-live="off"`: streamed text is not read out token by
 * token; the finished answer is announced once through the hidden live region below.
 */
export function MessageList() {
  const { chat, config, strings } = useView();
  const messages = chat.messages.value;
  const busy = chat.busy.value;
  const s = strings.value;
  const log = useRef<HTMLDivElement>(null);
  const pinned = useRef(true);

  // Follow new text while the visitor is at the bottom; leave them alone when they scrolled up.
  useLayoutEffect(() => {
    const el = log.current;
    if (el && pinned.current) el.scrollTop = el.scrollHeight;
  });

  const last = messages[messages.length - 1];
  const announce = last && last.role === 'assistant' && last.state !== 'streaming' ? last.content : '';

  return (
    <>
      <div
        part="log"
        class="log"
        role="log"
        aria-live="off"
        tabIndex={0}
        aria-label={s.title}
        ref={log}
        onScroll={(e) => {
          const el = e.currentTarget;
          pinned.current = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
        }}
      >
        {config.welcome && (
          <div part="message assistant welcome" class="message assistant welcome">
            <div class="bubble">{config.welcome}</div>
          </div>
        )}
        {messages.map((m) => (
          <MessageItem key={m.id} message={m} />
        ))}
        {messages.length === 0 && config.suggestions.length > 0 && (
          <div class="suggestions" role="group" aria-label={s.suggestions}>
            {config.suggestions.map((q) => (
              <button
                type="button"
                part="suggestion"
                class="suggestion"
                key={q}
                disabled={busy}
                onClick={() => void chat.send(q)}
              >
                {q}
              </button>
            ))}
          </div>
        )}
      </div>
      <div class="sr-only" role="status" aria-live="polite" aria-atomic="true">
        {announce}
      </div>
    </>
  );
}
