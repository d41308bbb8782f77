import { reactive } from './reactive';
import { Icon } from './icons';
import { MessageList } from './MessageList';
import { Composer } from './Composer';
import { ErrorNotice } from './ErrorNotice';

/** Header, message log, error notice and composer. Escape closes it in bubble mode. */
export const Panel = reactive((_props, { config, strings, setOpen }) => {
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
        if (bubble && e.key === 'Escape') {
          e.stopPropagation();
          setOpen(false);
        }
      }}
    >
      <header part="header" class="header">
        <h2 part="title" class="title" id={`${config.idPrefix}-title`}>
          {s.title}
        </h2>
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
