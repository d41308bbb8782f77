/**
 * `codegpt-widget/react`: `<CodeGPTChat>`, a thin React binding over {@link mount} (issue 7).
 *
 * Built on its own (`vite build --mode react` → `dist/react.js`) with `react` and the widget's ESM
 * entry left as imports: the widget is imported from `codegpt-widget`, so an app that also uses
 * `mount()` gets one copy, and React is an optional peer dependency, never bundled. No JSX here, so
 * the file compiles the same whatever JSX runtime the repository uses for the Preact view.
 *
 * Server rendering: importing this module only creates the component object; rendering it emits
 * nothing in bubble mode and one empty `<div>` in inline mode, and the widget mounts in an effect
 * (effects never run on the server), so hydration finds exactly what the server sent.
 */
import { createElement, forwardRef, useEffect, useImperativeHandle, useRef, useState } from 'react';
import type { CSSProperties, ForwardRefExoticComponent, RefAttributes } from 'react';
// The react build rewrites this import to the external `codegpt-widget` (vite.config.ts, mode react).
import { mount } from '../index';
import type { ChatWidget, WidgetEvents, WidgetOptions } from '../index';

/** Event props and the widget events they listen to (embed.md section 3). */
const EVENTS = {
  onReady: 'ready',
  onOpen: 'open',
  onClose: 'close',
  onSend: 'send',
  onAnswer: 'answer',
  onError: 'error',
} as const satisfies Record<string, keyof WidgetEvents>;

type EventProps = {
  [P in keyof typeof EVENTS]?: (detail: WidgetEvents[(typeof EVENTS)[P]]) => void;
};

/**
 * Props of {@link CodeGPTChat}: every {@link WidgetOptions} field except `target` (in inline mode the
 * component renders its own container), the widget's events as `on*` callbacks, and the container's
 * `className` and `style`.
 *
 * Changing any option remounts the widget (the conversation survives when `persist` keeps it, the
 * default). Event callbacks, `getToken` and `fetch` are read at call time, so passing new functions
 * on every render neither remounts nor goes stale.
 * @public
 */
export interface CodeGPTChatProps extends Omit<WidgetOptions, 'target'>, EventProps {
  /** Class of the inline-mode container `<div>`; ignored in bubble mode. */
  className?: string;
  /** Style of the inline-mode container `<div>`; ignored in bubble mode. */
  style?: CSSProperties;
}

const NOT_OPTIONS = new Set<string>([...Object.keys(EVENTS), 'className', 'style', 'children', 'target']);

/** The widget options in `props`, i.e. what {@link mount} receives. */
function optionsOf(props: CodeGPTChatProps): Omit<WidgetOptions, 'target'> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(props)) if (!NOT_OPTIONS.has(name)) out[name] = value;
  return out as unknown as Omit<WidgetOptions, 'target'>;
}

/**
 * When the widget must be remounted: a string equal across renders with equal option values, so new
 * array or object literals (`suggestions`, `strings`) on every render do not remount. Functions only
 * count as present or absent; the latest one is always called.
 */
function optionsKey(props: CodeGPTChatProps): string {
  return JSON.stringify(optionsOf(props), (_name, value: unknown) => (typeof value === 'function' ? true : value));
}

/**
 * A stable {@link ChatWidget} for the ref: it forwards to whichever widget is mounted now, so a ref
 * read before a remount still works after it. Before the first mount and after unmount it is inert.
 * `on()` subscribes to the current widget only; prefer the `on*` props, which follow remounts.
 */
function createHandle(current: { widget: ChatWidget | null }): ChatWidget {
  return {
    open: () => current.widget?.open(),
    close: () => current.widget?.close(),
    toggle: () => current.widget?.toggle(),
    send: (text) => current.widget?.send(text) ?? Promise.resolve(),
    stop: () => current.widget?.stop(),
    reset: () => current.widget?.reset(),
    destroy: () => current.widget?.destroy(),
    on: (event, fn) => current.widget?.on(event, fn) ?? (() => {}),
    get isOpen() {
      return current.widget?.isOpen ?? false;
    },
    get messages() {
      return current.widget?.messages ?? [];
    },
    get element() {
      return current.widget?.element ?? null;
    },
  };
}

/**
 * The CodeGPT chat widget as a React component (React 18 and 19).
 *
 * Mounts in an effect and destroys on unmount; under `<StrictMode>` the development double effect
 * mounts, destroys and mounts again, leaving one widget. Renders `null` in bubble mode (the widget
 * appends its own element to `<body>`) and an empty `<div>` in inline mode, which the widget fills.
 * The ref is a {@link ChatWidget} (`ref.current.open()`, `.send(text)`, `.messages`, …).
 *
 * @example
 * ```tsx
 * <CodeGPTChat agentId="…" tokenEndpoint="/api/codegpt/token" onAnswer={({ message }) => log(message)} />
 * ```
 * @public
 */
export const CodeGPTChat: ForwardRefExoticComponent<CodeGPTChatProps & RefAttributes<ChatWidget>> = forwardRef<
  ChatWidget,
  CodeGPTChatProps
>(function CodeGPTChat(props, ref) {
  const latest = useRef(props);
  const container = useRef<HTMLDivElement>(null);
  const [current] = useState(() => ({ widget: null as ChatWidget | null }));
  const [handle] = useState(() => createHandle(current));
  useImperativeHandle(ref, () => handle, [handle]);
  const key = optionsKey(props);
  const inline = props.mode === 'inline';

  // Declared before the mount effect, so it runs first in the same commit.
  useEffect(() => {
    latest.current = props;
  });

  useEffect(() => {
    const now = latest.current;
    const options: WidgetOptions = { ...optionsOf(now) };
    // The latest function at call time: a new closure per render neither remounts nor goes stale.
    if (now.getToken) options.getToken = () => latest.current.getToken!();
    if (now.fetch) options.fetch = ((input, init) => latest.current.fetch!(input, init)) as typeof fetch;
    if (options.mode === 'inline') options.target = container.current ?? undefined;
    const widget = mount(options);
    current.widget = widget;
    const unsubscribe = (Object.keys(EVENTS) as (keyof typeof EVENTS)[]).map((prop) =>
      widget.on(EVENTS[prop], (detail) => (latest.current[prop] as ((d: typeof detail) => void) | undefined)?.(detail)),
    );
    return () => {
      for (const off of unsubscribe) off();
      if (current.widget === widget) current.widget = null;
      widget.destroy();
    };
    // `key` stands for every option; the functions and handlers are read through `latest`.
  }, [key]);

  return inline ? createElement('div', { ref: container, className: props.className, style: props.style }) : null;
});
CodeGPTChat.displayName = 'CodeGPTChat';

export type { ChatWidget, WidgetEvents, WidgetOptions };
