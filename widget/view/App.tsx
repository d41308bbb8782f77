import { Component } from 'preact';
import { Ctx, type ViewContext } from './context';
import { Launcher } from './Launcher';
import { Panel } from './Panel';
import { reactive } from './reactive';

const Root = reactive((_props, { config, ui }) => {
  const bubble = config.mode === 'bubble';
  return (
    <div class="root">
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
    return (
      <Ctx.Provider value={ctx}>
        <Root />
      </Ctx.Provider>
    );
  }
}
