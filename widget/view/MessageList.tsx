import { createRef, Fragment, h } from 'preact';
import { MessageItem } from './MessageItem';
import { Reactive } from './reactive';

/** Characters of a finished answer read out by the live region. */
const ANNOUNCE_MAX = 600;

/**
 * The conversation log. `role="log"` with `aria-live="off"`: streamed text is not read out token by
 * token; the finished answer is announced once through the hidden live region below.
 */
export class MessageList extends Reactive {
  private log = createRef<HTMLDivElement>();
  /** Follow new text while the visitor is at the bottom; leave them alone when they scrolled up. */
  private pinned = true;

  override componentDidMount(): void {
    this.follow();
  }

  override componentDidUpdate(): void {
    this.follow();
  }

  private follow(): void {
    const el = this.log.current;
    if (el && this.pinned) el.scrollTop = el.scrollHeight;
  }

  view() {
    const { chat, config, strings } = this.context;
    const messages = chat.messages.value;
    const busy = chat.busy.value;
    const s = strings.value;
    const last = messages[messages.length - 1];
    // Announced once when the answer ends: markdown symbols removed (not read out), and capped,
    // since a screen reader user can read a long answer in the log itself.
    const announce =
      last && last.role === 'assistant' && last.state !== 'streaming'
        ? last.content.slice(0, ANNOUNCE_MAX).replace(/[*_`#>|~]+/g, '') + (last.content.length > ANNOUNCE_MAX ? '…' : '')
        : '';
    return (
      <>
        <div
          part="log"
          class="log"
          role="log"
          aria-live="off"
          tabIndex={0}
          aria-label={s.title}
          ref={this.log}
          onScroll={(e) => {
            const el = e.currentTarget;
            this.pinned = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
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
}
