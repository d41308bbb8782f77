import { h } from 'preact';
import { reactive } from './reactive';
import { Icon } from './icons';
import { MessageList } from './MessageList';
import { Composer } from './Composer';
import { ErrorNotice } from './ErrorNotice';
import { FULL_SCREEN_QUERY } from '../embed/scroll-lock';

/**
 * Header, message log, error notice and composer. In bubble mode Escape closes it, and while it
 * covers the whole screen (phones) Tab and Shift+Tab stay inside it.
 */
export const Panel = reactive((_props, { config, strings, setOpen, chat, clear }) => {
  const s = strings.value;
  const bubble = config.mode === 'bubble';
  return (
    <section
      part="panel"
      class={`panel ${bubble ? 'panel-bubble' : 'panel-inline'}`}
      id={`${config.idPrefix}-panel`}
      role={bubble ? 'dialog' : 'region'}
      aria-labelledby={`${config.idPrefix}-title`}
      onKeyDown={(e) => {
        if (!bubble) return;
        if (e.key === 'Escape') {
          e.stopPropagation();
          setOpen(false);
        }
        const panel = e.currentTarget;
        if (e.key === 'Tab' && panel.ownerDocument.defaultView?.matchMedia?.(FULL_SCREEN_QUERY).matches) {
          const stops = [...panel.querySelectorAll<HTMLElement>('button:not(:disabled),textarea,a[href],[tabindex="0"]')];
          const edge = stops[e.shiftKey ? 0 : stops.length - 1];
          if ((panel.getRootNode() as ShadowRoot).activeElement === edge) {
            e.preventDefault();
            stops[e.shiftKey ? stops.length - 1 : 0]?.focus();
          }
        }
      }}
    >
      <header part="header" class="header">
        <h2 part="title" class="title" id={`${config.idPrefix}-title`}>
          {s.title}
        </h2>
        {chat.messages.value.length > 0 && (
          <button type="button" part="clear" class="x" aria-label={s.clear} onClick={clear}>
            <Icon name="clear" />
          </button>
        )}
        {bubble && (
          <button type="button" part="close" class="x" aria-label={s.close} onClick={() => setOpen(false)}>
            <Icon name="close" />
          </button>
        )}
      </header>
      <MessageList />
      <ErrorNotice />
      <Composer />
    </section>
  );
});
