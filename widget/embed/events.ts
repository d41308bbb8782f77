import type { ChatEvents } from '../model/chat-model';

/** Events of a {@link ChatWidget}, given to `on()` listeners and dispatched as `codegpt:<event>`. */
export interface WidgetEvents extends ChatEvents {
  ready: Record<string, never>;
  open: Record<string, never>;
  close: Record<string, never>;
  /** The visitor rated an answer; `value` is null when they took the rating back. */
  feedback: { messageId: string; value: 'up' | 'down' | null };
}

export type Listener<K extends keyof WidgetEvents> = (detail: WidgetEvents[K]) => void;

export interface Emitter {
  on<K extends keyof WidgetEvents>(event: K, fn: Listener<K>): () => void;
  emit<K extends keyof WidgetEvents>(event: K, detail: WidgetEvents[K]): void;
  clear(): void;
}

/**
 * A small emitter (mitt-like) that also dispatches a DOM CustomEvent on the host element. A
 * listener that throws is reported on the console and does not stop the others or the widget.
 */
export function createEmitter(host: HTMLElement, report: (error: unknown) => void): Emitter {
  const listeners = new Map<keyof WidgetEvents, Set<(detail: never) => void>>();
  return {
    on(event, fn) {
      if (typeof fn !== 'function') return () => {};
      let set = listeners.get(event);
      if (!set) listeners.set(event, (set = new Set()));
      set.add(fn as (detail: never) => void);
      return () => void set.delete(fn as (detail: never) => void);
    },
    emit(event, detail) {
      for (const fn of [...(listeners.get(event) ?? [])]) {
        try {
          (fn as (d: typeof detail) => void)(detail);
        } catch (error) {
          report(error);
        }
      }
      try {
        const win = host.ownerDocument.defaultView;
        if (win) host.dispatchEvent(new win.CustomEvent(`codegpt:${event}`, { detail, bubbles: true, composed: true }));
      } catch (error) {
        report(error);
      }
    },
    clear() {
      listeners.clear();
    },
  };
}
