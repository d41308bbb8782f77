import { h } from 'preact';
import { Component } from 'preact';
import type { ViewContext } from './context';
import { Launcher } from './Launcher';
import { Panel } from './Panel';
import { reactive } from './reactive';

const Root = reactive((_props, { config, ui, strings }) => {
  const bubble = config.mode === 'bubble';
  const { lang, rtl } = strings.value;
  // An explicit `dir`: a right-to-left host page does not flip a left-to-right widget, and back.
  return (
    <div class="root" lang={lang} dir={rtl ? 'rtl' : 'ltr'}>
      {bubble && <Launcher />}
      {(!bubble || ui.isOpen.value) && <Panel />}
    </div>
  );
});

/**
 * Root of one mount. A rendering bug is caught here and shown as a short notice instead of
 * reaching the host page (reliability: nothing escapes).
 */
export class App extends Component<{ ctx: ViewContext }, { failed?: boolean }> {
  /**
   * The view context of this mount, through Preact's legacy context (every component below reads
   * it as `this.context`); createContext would add a Provider for the same effect.
   */
  override getChildContext(): ViewContext {
    return this.props.ctx;
  }

  override componentDidCatch(): void {
    this.setState({ failed: true });
  }

  override render({ ctx }: { ctx: ViewContext }) {
    if (this.state.failed) {
      return (
        <div class="root">
          <div class="fatal" role="alert" part="error">
            {ctx.strings.value.errors.server}
          </div>
        </div>
      );
    }
    return <Root />;
  }
}
