import { h } from 'preact';
import { reactive } from './reactive';
import { Icon } from './icons';

/** The floating button of bubble mode. Hover and focus warm the token up (embed.md 5, rule 1). */
export const Launcher = reactive((_props, { ui, strings, setOpen, config }) => {
  const open = ui.isOpen.value;
  const s = strings.value;
  return (
    <button
      type="button"
      part="launcher"
      class="launcher"
      aria-expanded={open}
      aria-controls={`${config.idPrefix}-panel`}
      aria-label={open ? s.closeChat : s.openChat}
      onClick={() => setOpen(!open)}
    >
      <Icon name={open ? 'close' : 'chat'} />
    </button>
  );
});
