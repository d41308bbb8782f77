/**
 * IIFE entry (script tag), the ONLY module with import-time side effects: it sets exactly one
 * global, `window.CodeGPTWidget`, defines `<codegpt-chat>`, and mounts the widget its own script
 * tag describes (embed.md section 2). Nothing here may throw into the host page.
 */
import { WidgetError } from './core/errors';
import { defineElement } from './embed/element';
import { mount } from './embed/mount';
import { captureNatives } from './embed/natives';
import { addLocales } from './embed/locale-source.remote';
import { addDebug } from './embed/debug-source.remote';
import { hasConfig, readAttributes } from './embed/script-config';
import type { WidgetOptions } from './core/options';
import { version } from './version';

interface GlobalApi {
  mount: typeof mount;
  defineElement: typeof defineElement;
  version: string;
  /** Receives a translation pack (`dist/locales/<lang>.js` calls it). */
  addLocales: typeof addLocales;
  /** Receives the debug logger (`dist/codegpt-widget.debug.js` calls it). */
  addDebug: typeof addDebug;
  /** Calls queued by a loader stub before this bundle arrived: `[method, ...args]`. */
  q?: unknown[][];
}

try {
  // Before the page's later scripts can wrap fetch or the timers (reliability E4).
  captureNatives(window);
  const w = window as unknown as { CodeGPTWidget?: Partial<GlobalApi> };
  const script = document.currentScript;
  const existing = w.CodeGPTWidget;
  // Merge into an existing object rather than clobbering it (a loader stub, or the bundle included twice).
  const api = (existing && typeof existing === 'object' ? existing : {}) as Partial<GlobalApi>;
  const alreadyLoaded = typeof api.mount === 'function';
  if (!alreadyLoaded) {
    api.mount = mount;
    api.defineElement = defineElement;
    api.version = version;
    api.addLocales = addLocales;
    api.addDebug = addDebug;
  }
  w.CodeGPTWidget = api;
  api.defineElement!();

  // Replay calls a stub queued before the bundle loaded (style guide: embed/queue.ts).
  const queued = Array.isArray(api.q) ? api.q.splice(0) : [];
  for (const call of queued) {
    if (Array.isArray(call) && call[0] === 'mount') api.mount!(call[1] as WidgetOptions);
  }

  if (script instanceof HTMLScriptElement && hasConfig(script)) {
    const options = readAttributes(script, 'data-') as WidgetOptions;
    const selector = `codegpt-chat[data-codegpt-agent="${CSS.escape(String(options.agentId ?? ''))}"]`;
    const start = () => {
      if (options.agentId && (options.mode ?? 'bubble') === 'bubble' && document.querySelector(selector)) {
        console.warn('codegpt-widget: the script tag is included twice for this agent; mounting once.');
        return;
      }
      api.mount!(options);
    };
    // With `async` the body may not exist yet.
    if (document.body) start();
    else document.addEventListener('DOMContentLoaded', start, { once: true });
  }
} catch (error) {
  console.error(error instanceof WidgetError ? error.message : 'codegpt-widget: failed to start.', error);
}
