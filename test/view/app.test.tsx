// @vitest-environment happy-dom
import { h } from 'preact';
import { signal } from '@preact/signals-core';
import { cleanup, fireEvent, render, screen } from '@testing-library/preact';
import { afterEach, describe, expect, it } from 'vitest';
import { WidgetError } from '../../widget/core/errors';
import { en } from '../../widget/core/strings';
import { createChatModel } from '../../widget/model/chat-model';
import { createUiModel } from '../../widget/model/ui-model';
import { App } from '../../widget/view/App';
import type { ViewConfig, ViewContext } from '../../widget/view/context';
import { createFakeTransport, interrupted } from '../helpers/fake-transport';

const immediate = (cb: () => void) => (cb(), () => {});
const tick = () => new Promise((r) => setTimeout(r, 0));

function setup(config: Partial<ViewConfig> = {}, open = true) {
  const transport = createFakeTransport();
  let n = 0;
  const chat = createChatModel({ transport, createId: () => `m${n++}`, schedule: immediate });
  const ui = createUiModel({ open });
  const opened: boolean[] = [];
  const rated: [string, string | null][] = [];
  const copied: string[] = [];
  let cleared = 0;
  const ctx: ViewContext = {
    chat,
    ui,
    strings: signal({ ...en, title: 'Ask the docs', placeholder: 'Type here', lang: 'en', rtl: false }),
    setOpen: (o) => {
      opened.push(o);
      ui.isOpen.value = o;
    },
    rate: (id, value) => {
      rated.push([id, value]);
      ui.feedback.value = value ? { ...ui.feedback.value, [id]: value } : {};
    },
    clear: () => {
      cleared++;
      chat.reset();
    },
    copyAnswer: (m) => {
      copied.push(m.content);
      ui.copied.value = m.id;
    },
    config: { mode: 'bubble', welcome: undefined, suggestions: [], imageHosts: [], pageUrl: 'https://docs.example/', idPrefix: 't', ...config },
  };
  const view = render(<App ctx={ctx} />);
  const part = (name: string) => view.container.querySelector(`[part~="${name}"]`) as HTMLElement | null;
  const parts = (name: string) => [...view.container.querySelectorAll(`[part~="${name}"]`)] as HTMLElement[];
  return { chat, ui, transport, view, part, parts, opened, rated, copied, cleared: () => cleared };
}

afterEach(cleanup);

describe('App', () => {
  it('renders a labelled launcher with aria-expanded / aria-controls and toggles the panel', async () => {
    const { part, opened, ui } = setup({}, false);
    const launcher = part('launcher')!;
    expect(launcher.getAttribute('aria-expanded')).toBe('false');
    expect(launcher.getAttribute('aria-label')).toBe('Open chat');
    expect(launcher.getAttribute('aria-controls')).toBe('t-panel');
    expect(part('panel')).toBeNull();
    fireEvent.click(launcher);
    expect(opened).toEqual([true]);
    expect(ui.isOpen.value).toBe(true);
    await tick();
    expect(part('panel')!.id).toBe('t-panel');
    expect(part('launcher')!.getAttribute('aria-expanded')).toBe('true');
    expect(part('title')!.textContent).toBe('Ask the docs');
    expect(part('log')!.getAttribute('role')).toBe('log');
  });

  it('Escape and the close button close the panel', async () => {
    const { part, opened } = setup();
    fireEvent.keyDown(part('input')!, { key: 'Escape' });
    expect(opened).toEqual([false]);
    await tick();
    // re-open to test the button
    fireEvent.click(part('launcher')!);
    await tick();
    fireEvent.click(part('close')!);
    expect(opened).toEqual([false, true, false]);
  });

  it('Enter sends, Shift+Enter does not; Stop replaces Send while streaming', async () => {
    const { part, transport, chat } = setup();
    const input = part('input') as HTMLTextAreaElement;
    fireEvent.input(input, { target: { value: 'line one' } });
    fireEvent.keyDown(input, { key: 'Enter', shiftKey: true });
    await tick();
    expect(transport.calls).toHaveLength(0);
    fireEvent.keyDown(input, { key: 'Enter' });
    await tick();
    expect(transport.calls).toHaveLength(1);
    expect(transport.calls[0]!.messages).toEqual([{ role: 'user', content: 'line one' }]);
    expect((part('input') as HTMLTextAreaElement).value).toBe('');
    expect(part('send')).toBeNull();
    expect(part('stop')).not.toBeNull();
    transport.calls[0]!.delta('**Bold** answer');
    await tick();
    const answer = part('assistant')!;
    expect(answer.getAttribute('data-state')).toBe('streaming');
    expect(answer.getAttribute('aria-busy')).toBe('true');
    expect(answer.querySelector('strong')!.textContent).toBe('Bold');
    fireEvent.click(part('stop')!);
    await tick();
    await tick();
    expect(part('assistant')!.getAttribute('data-state')).toBe('stopped');
    expect(part('assistant')!.textContent).toContain('Bold answer');
    expect(part('send')).not.toBeNull();
    expect(chat.status.value).toBe('idle');
  });

  it('shows user text as text, never as markup', async () => {
    const { part, chat, transport } = setup();
    void chat.send('<img src=x onerror=alert(1)>');
    await tick();
    expect(part('user')!.querySelector('img')).toBeNull();
    expect(part('user')!.textContent).toContain('<img src=x onerror=alert(1)>');
    transport.calls[0]!.finish();
  });

  it('shows the welcome message and suggestions; a suggestion asks it', async () => {
    const { part, parts, transport } = setup({ welcome: 'Hi! Ask me anything.', suggestions: ['How do I install it?', 'Is it safe?'] });
    expect(part('welcome')!.textContent).toBe('Hi! Ask me anything.');
    expect(parts('suggestion').map((b) => b.textContent)).toEqual(['How do I install it?', 'Is it safe?']);
    fireEvent.click(parts('suggestion')[1]!);
    await tick();
    expect(transport.calls[0]!.messages).toEqual([{ role: 'user', content: 'Is it safe?' }]);
    expect(parts('suggestion')).toHaveLength(0);
  });

  it('an error shows a readable notice with Retry, never the raw body; Retry re-asks once', async () => {
    const { part, parts, transport, chat } = setup();
    void chat.send('q');
    await tick();
    transport.calls[0]!.delta('partial');
    transport.calls[0]!.fail(interrupted());
    await tick();
    await tick();
    expect(part('assistant')!.getAttribute('data-state')).toBe('error');
    expect(part('assistant')!.textContent).toContain('partial');
    expect(part('error')!.getAttribute('role')).toBe('alert');
    expect(part('error')!.textContent).toContain(en.errors.interrupted);
    fireEvent.click(part('retry')!);
    await tick();
    expect(transport.calls).toHaveLength(2);
    transport.calls[1]!.delta('whole');
    transport.calls[1]!.finish();
    await tick();
    await tick();
    expect(parts('user')).toHaveLength(1);
    expect(part('error')).toBeNull();
    expect(part('assistant')!.textContent).toContain('whole');
  });

  it('a config error has no Retry button', async () => {
    const { part, chat, transport } = setup();
    void chat.send('q');
    await tick();
    transport.calls[0]!.fail(new WidgetError('config', 'Agent not found'));
    await tick();
    await tick();
    expect(part('error')!.textContent).toContain(en.errors.config);
    expect(part('retry')).toBeNull();
    // An empty failed answer is not shown as an empty bubble.
    expect(part('assistant')).toBeNull();
  });

  it('announces the finished answer once through a polite live region, not the log', async () => {
    const { view, part, chat, transport } = setup();
    void chat.send('q');
    await tick();
    const live = view.container.querySelector('[role="status"][aria-live="polite"]')!;
    expect(part('log')!.getAttribute('aria-live')).toBe('off');
    transport.calls[0]!.delta('Partial ');
    await tick();
    expect(live.textContent).toBe('');
    transport.calls[0]!.delta('answer.');
    transport.calls[0]!.finish();
    await tick();
    await tick();
    expect(live.textContent).toBe('Partial answer.');
  });

  it('inline mode renders the panel without launcher or close button', () => {
    const { part } = setup({ mode: 'inline' }, false);
    expect(part('launcher')).toBeNull();
    expect(part('panel')).not.toBeNull();
    expect(part('close')).toBeNull();
  });

  it('a finished answer has copy and rating controls; streaming and failed-empty answers do not', async () => {
    const { chat, transport, part, parts, rated, copied } = setup();
    const asked = chat.send('Hi?');
    await tick();
    transport.calls[0]!.delta('**Hello**');
    expect(part('actions')).toBeNull(); // still streaming
    transport.calls[0]!.finish();
    await asked;
    await tick();
    fireEvent.click(part('copy-answer')!);
    expect(copied).toEqual(['**Hello**']);
    await tick();
    expect(part('copy-answer')!.textContent).toBe('Copied');
    const up = parts('feedback').find((b) => b.getAttribute('part') === 'feedback up')!;
    expect(up.getAttribute('aria-label')).toBe('Helpful');
    expect(up.getAttribute('aria-pressed')).toBe('false');
    fireEvent.click(up);
    await tick();
    expect(rated).toEqual([['m1', 'up']]);
    expect(up.getAttribute('aria-pressed')).toBe('true');
    fireEvent.click(up);
    expect(rated.at(-1)).toEqual(['m1', null]);
  });

  it('the clear button appears once there is a conversation and clears it', async () => {
    const { chat, transport, part, cleared } = setup();
    expect(part('clear')).toBeNull();
    const asked = chat.send('Hi?');
    await tick();
    transport.calls[0]!.delta('Hello');
    transport.calls[0]!.finish();
    await asked;
    await tick();
    expect(part('clear')!.getAttribute('aria-label')).toBe('Clear conversation');
    fireEvent.click(part('clear')!);
    expect(cleared()).toBe(1);
    await tick();
    expect(chat.messages.value).toEqual([]);
    expect(part('clear')).toBeNull();
  });
});
