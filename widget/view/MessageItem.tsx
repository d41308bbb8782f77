import { h } from 'preact';
import type { Message } from '../core/types';
import { AnswerActions } from './AnswerActions';
import { Markdown } from './Markdown';
import { Reactive } from './reactive';

interface Props {
  message: Message;
}

/** One message. User text is a text node; assistant text goes through the safe markdown renderer. */
export class MessageItem extends Reactive<Props> {
  /**
   * Messages are immutable: an unchanged object needs no render, so a streamed delta re-renders
   * only the message it extends, not the whole list (signal changes still force an update).
   */
  override shouldComponentUpdate(next: Props): boolean {
    return next.message !== this.props.message;
  }

  view({ message }: Props) {
    const { config, strings, chat } = this.context;
    const s = strings.value;
    if (message.role === 'user') {
      return (
        <div part="message user" class="message user">
          <span class="sr-only">{s.you}: </span>
          <div class="bubble">{message.content}</div>
        </div>
      );
    }
    const streaming = message.state === 'streaming';
    const empty = message.content === '';
    // A failed answer with no text shows nothing here: the error notice explains it.
    if (empty && message.state === 'error') return null;
    return (
      <div
        part="message assistant"
        class="message assistant"
        data-state={message.state}
        aria-busy={streaming}
      >
        <span class="sr-only">{s.assistant}: </span>
        <div class="bubble">
          {empty && streaming ? (
            <span class="typing" role="img" aria-label={chat.status.value === 'connecting' ? s.connecting : s.thinking}>
              <span />
              <span />
              <span />
            </span>
          ) : (
            <Markdown
              text={message.content}
              final={!streaming}
              imageHosts={config.imageHosts}
              baseUrl={config.pageUrl}
              strings={s}
            />
          )}
          {message.state === 'stopped' && <div class="note">{s.stopped}</div>}
          {!streaming && !empty && <AnswerActions message={message} />}
        </div>
      </div>
    );
  }
}
