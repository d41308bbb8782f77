import { effect } from '@preact/signals-core';
import { Component, type ComponentChildren, type ComponentType } from 'preact';
import type { ViewContext } from './context';

/**
 * A component that re-renders when a signal it read during its last render changes. It replaces
 * the Preact binding of signals and `preact/hooks` (about 6 KB minified together): each render runs
 * inside a signals-core `effect`, which records exactly the signals that render read; when one of
 * them changes, the effect asks Preact for an update instead of re-running the view itself.
 */
export abstract class Reactive<P = object> extends Component<P> {
  declare context: ViewContext;
  declare private stopTracking: (() => void) | undefined;

  /** What `render` would be; read signals freely. */
  abstract view(props: P): ComponentChildren;

  override render(): ComponentChildren {
    const props = this.props;
    this.stopTracking?.();
    let out: ComponentChildren;
    let first = true;
    this.stopTracking = effect(() => {
      if (first) {
        first = false;
        out = this.view(props);
      } else {
        this.forceUpdate();
      }
    });
    return out;
  }

  override componentWillUnmount(): void {
    this.stopTracking?.();
  }
}

/** A function component made {@link Reactive}; it receives the view context as second argument. */
export function reactive<P = object>(view: (props: P, ctx: ViewContext) => ComponentChildren): ComponentType<P> {
  return class extends Reactive<P> {
    view(props: P): ComponentChildren {
      return view(props, this.context);
    }
  };
}
