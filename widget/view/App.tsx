// The Preact binding of signals: components that read `.value` re-render when it changes.
import '@preact/signals';
import { useErrorBoundary } from 'preact/hooks';
import { Ctx, type ViewContext } from './context';
import { Launcher } from './Launcher';
import { Panel } from './Panel';

/**
 * Root of one mount. A rendering bug is caught here and shown as a short notice instead of
 * reaching the host page (reliability: nothing escapes).
 */
export function App({ ctx }: { ctx: ViewContext }) {
  const [failure] = useErrorBoundary();
  if (failure) {
    return (
      <div class="root">
        <div class="fatal" role="alert" part="error">
          {ctx.strings.value.errors.server}
        </div>
      </div>
    );
  }
  const bubble = ctx.config.mode === 'bubble';
  return (
    <Ctx.Provider value={ctx}>
      <div class="root">
        {bubble && <Launcher />}
        {(!bubble || ctx.ui.isOpen.value) && <Panel />}
      </div>
    </Ctx.Provider>
  );
}
