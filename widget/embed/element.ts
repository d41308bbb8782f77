import type { WidgetOptions } from '../core/options';
import { LIVE, managedHosts, mountInto, type ChatWidget, type MountedWidget } from './mount';
import { readAttributes } from './script-config';

/**
 * Define `<codegpt-chat>` (or `tagName`). Idempotent. The class is created here, not at import
 * time, so importing the ESM bundle on a server touches no DOM global.
 */
export function defineElement(tagName = 'codegpt-chat'): void {
  if (typeof customElements === 'undefined' || customElements.get(tagName)) return;

  class CodeGPTChatElement extends HTMLElement {
    static observedAttributes = [...LIVE];
    #widget: MountedWidget | undefined;
    /** This element's widget, or the one mount() made with this element as its host. */
    get #w(): MountedWidget | undefined {
      return this.#widget ?? managedHosts.get(this) ?? undefined;
    }

    connectedCallback(): void {
      if (managedHosts.has(this) || this.#widget) return;
      const options = readAttributes(this, '') as WidgetOptions;
      this.#widget = mountInto(this, { ...options, mode: options.mode ?? 'bubble', open: this.#openAtMount ?? options.open });
    }

    disconnectedCallback(): void {
      // Removing the element destroys the instance; moving it (disconnect + connect in one task) does not.
      queueMicrotask(() => {
        if (!this.isConnected) {
          this.#w?.destroy();
          this.#widget = undefined;
        }
      });
    }

    attributeChangedCallback(name: string, _old: string | null, value: string | null): void {
      if (!this.#widget || !(LIVE as readonly string[]).includes(name)) return;
      this.#widget.update({ [name]: value ?? undefined });
    }

    /**
     * `el.open()` opens the panel, and `el.open = true` (what Vue, React 19 and Svelte do with an
     * `open` attribute in a template, since the element has an `open` member) opens it too,
     * instead of overwriting the method.
     */
    get open(): () => void {
      return () => this.#w?.open();
    }
    set open(value: unknown) {
      const on = value != null && value !== false && value !== 'false';
      const widget = this.#w;
      if (!widget) this.#openAtMount = on;
      else if (on) widget.open();
      else widget.close();
    }
    #openAtMount: boolean | undefined;
    close(): void {
      this.#w?.close();
    }
    toggle(): void {
      this.#w?.toggle();
    }
    send(text: string): Promise<void> {
      return this.#w?.send(text) ?? Promise.resolve();
    }
    stop(): void {
      this.#w?.stop();
    }
    reset(): void {
      this.#w?.reset();
    }
    destroy(): void {
      this.#w?.destroy();
      this.#widget = undefined;
    }
    on: ChatWidget['on'] = (event, fn) => this.#w?.on(event, fn) ?? (() => {});
    get isOpen(): boolean {
      return this.#w?.isOpen ?? false;
    }
    get messages(): ChatWidget['messages'] {
      return this.#w?.messages ?? [];
    }
    get element(): HTMLElement | null {
      return this.#w?.element ?? null;
    }
  }

  customElements.define(tagName, CodeGPTChatElement);
}
