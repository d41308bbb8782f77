// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from 'vitest';
import { defineElement } from '../../widget/embed/element';
import { mount } from '../../widget/embed/mount';
import { hasConfig, readAttributes } from '../../widget/embed/script-config';

const tick = () => new Promise((r) => setTimeout(r, 0));
const token = () => Promise.resolve({ token: 'tok-abc', expiresIn: 600 });

afterEach(() => {
  document.body.innerHTML = '';
  sessionStorage.clear();
  vi.restoreAllMocks();
});

describe('mount()', () => {
  it('appends one <codegpt-chat> with an open shadow root at the end of body, and emits ready', async () => {
    document.body.appendChild(document.createElement('main'));
    const w = mount({ agentId: 'a1', getToken: token });
    const ready = vi.fn();
    w.on('ready', ready);
    const host = document.body.lastElementChild as HTMLElement;
    expect(host.tagName.toLowerCase()).toBe('codegpt-chat');
    expect(w.element).toBe(host);
    expect(host.shadowRoot!.querySelector('[part="launcher"]')).not.toBeNull();
    expect(host.getAttribute('data-theme')).toBe('auto');
    await tick();
    expect(ready).toHaveBeenCalledTimes(1);
    w.destroy();
  });

  it('a missing agent id logs one console.error naming the attribute, mounts nothing, and never throws', () => {
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    const w = mount({ tokenEndpoint: '/t' } as never);
    expect(error).toHaveBeenCalledTimes(1);
    expect(String(error.mock.calls[0]![0])).toContain('data-agent-id');
    expect(document.querySelector('codegpt-chat')).toBeNull();
    expect(w.element).toBeNull();
    expect(() => (w.open(), w.stop(), w.reset(), w.destroy())).not.toThrow();
  });

  it('inline mode renders into the target; a selector matching nothing is a named config error', () => {
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    const box = document.createElement('div');
    box.id = 'chat-box';
    document.body.appendChild(box);
    const w = mount({ agentId: 'a1', getToken: token, mode: 'inline', target: '#chat-box' });
    expect(box.querySelector('codegpt-chat')).toBe(w.element);
    expect(w.element!.shadowRoot!.querySelector('[part="panel"]')).not.toBeNull();
    expect(w.element!.shadowRoot!.querySelector('[part="launcher"]')).toBeNull();
    mount({ agentId: 'a1', getToken: token, mode: 'inline', target: '#nope' });
    expect(String(error.mock.calls[0]![0])).toContain('"#nope" matches no element');
    w.destroy();
  });

  it('open/close/toggle emit events (also as codegpt:* DOM events) and track isOpen', async () => {
    const w = mount({ agentId: 'a1', getToken: token });
    const seen: string[] = [];
    w.on('open', () => seen.push('open'));
    w.on('close', () => seen.push('close'));
    w.element!.addEventListener('codegpt:open', (e) => seen.push('dom:' + e.type));
    w.open();
    w.open();
    expect(w.isOpen).toBe(true);
    w.toggle();
    expect(w.isOpen).toBe(false);
    expect(seen).toEqual(['open', 'dom:codegpt:open', 'close']);
    w.destroy();
  });

  it('a throwing listener is reported and does not break the others', () => {
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    const w = mount({ agentId: 'a1', getToken: token });
    const second = vi.fn();
    w.on('open', () => {
      throw new Error('host bug');
    });
    w.on('open', second);
    expect(() => w.open()).not.toThrow();
    expect(second).toHaveBeenCalled();
    expect(error).toHaveBeenCalled();
    w.destroy();
  });

  it('destroy removes the host, listeners and rendering; the instance is dead', async () => {
    const added = vi.spyOn(window, 'addEventListener');
    const removed = vi.spyOn(window, 'removeEventListener');
    const w = mount({ agentId: 'a1', getToken: token });
    const host = w.element!;
    w.destroy();
    expect(document.querySelector('codegpt-chat')).toBeNull();
    expect(host.shadowRoot!.childElementCount).toBe(0);
    expect(w.element).toBeNull();
    const addedTypes = added.mock.calls.map((c) => c[0]).sort();
    const removedTypes = removed.mock.calls.map((c) => c[0]).sort();
    expect(removedTypes).toEqual(addedTypes);
    await w.send('ignored');
    w.destroy();
  });

  it('several instances keep separate state', async () => {
    const a = mount({ agentId: 'agent-a', getToken: token, persist: 'none' });
    const b = mount({ agentId: 'agent-b', getToken: token, persist: 'none' });
    a.open();
    expect(a.isOpen).toBe(true);
    expect(b.isOpen).toBe(false);
    expect(a.element).not.toBe(b.element);
    a.destroy();
    b.destroy();
  });

  it('restores a stored conversation for the same agent only', () => {
    sessionStorage.setItem(
      'codegpt-widget:v1:a1',
      JSON.stringify({ messages: [{ id: 'x', role: 'user', content: 'hello again', state: 'done' }] }),
    );
    const w = mount({ agentId: 'a1', getToken: token });
    const other = mount({ agentId: 'a2', getToken: token });
    expect(w.messages.map((m) => m.content)).toEqual(['hello again']);
    expect(other.messages).toEqual([]);
    w.destroy();
    other.destroy();
  });
});

describe('<codegpt-chat> and script-tag attributes', () => {
  it('reads data-* attributes of the script tag (lists split, open as boolean)', () => {
    const s = document.createElement('script');
    s.setAttribute('data-agent-id', 'a1');
    s.setAttribute('data-suggestions', 'One?|Two?');
    s.setAttribute('data-image-hosts', 'img.example  cdn.example');
    s.setAttribute('data-open', '');
    expect(hasConfig(s)).toBe(true);
    expect(readAttributes(s, 'data-')).toEqual({ agentId: 'a1', suggestions: ['One?', 'Two?'], imageHosts: ['img.example', 'cdn.example'], open: true });
    expect(hasConfig(document.createElement('script'))).toBe(false);
  });

  it('defineElement is idempotent; the element mounts from its attributes and is destroyed on removal', async () => {
    defineElement();
    defineElement();
    // Opening warms the token up: keep that request off the network.
    vi.spyOn(window, 'fetch').mockImplementation(() => new Promise(() => {}));
    const el = document.createElement('codegpt-chat') as HTMLElement & { isOpen: boolean; open(): void };
    el.setAttribute('agent-id', 'a1');
    el.setAttribute('token-endpoint', '/dev/token');
    el.setAttribute('title', 'Docs helper');
    document.body.appendChild(el);
    expect(el.shadowRoot!.querySelector('[part="launcher"]')).not.toBeNull();
    el.open();
    expect(el.isOpen).toBe(true);
    expect(window.fetch).toHaveBeenCalledTimes(1);
    await tick();
    expect(el.shadowRoot!.querySelector('[part="title"]')!.textContent).toBe('Docs helper');
    el.setAttribute('title', 'Renamed');
    await tick();
    expect(el.shadowRoot!.querySelector('[part="title"]')!.textContent).toBe('Renamed');
    el.setAttribute('theme', 'dark');
    expect(el.getAttribute('data-theme')).toBe('dark');
    el.remove();
    await tick();
    expect(el.shadowRoot!.childElementCount).toBe(0);
  });

  it('setting the open property (as Vue/React 19 do for an `open` attribute) opens instead of breaking open()', async () => {
    defineElement();
    vi.spyOn(window, 'fetch').mockImplementation(() => new Promise(() => {}));
    const el = document.createElement('codegpt-chat') as HTMLElement & { isOpen: boolean; open: unknown; close(): void };
    el.setAttribute('agent-id', 'a2');
    el.setAttribute('token-endpoint', '/dev/token');
    el.open = true; // before connection: applied at mount
    document.body.appendChild(el);
    expect(el.isOpen).toBe(true);
    el.open = false;
    expect(el.isOpen).toBe(false);
    (el.open as () => void)();
    expect(el.isOpen).toBe(true);
    el.remove();
    await tick();
  });
});
