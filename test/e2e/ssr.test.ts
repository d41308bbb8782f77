/**
 * SSR safety of the built ESM entries (issue 7; embed.md section 1: importing the ESM bundle touches
 * no DOM and no global). Runs in Node with no DOM, against dist/ (hence in the e2e suite, which runs
 * after `npm run build`): importing `codegpt-widget` and `codegpt-widget/react` must not throw or add
 * a global, and server rendering `<CodeGPTChat>` must emit nothing in bubble mode and only the empty
 * container in inline mode. The browser half, hydrating that markup, is in frameworks.test.ts.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { createElement } from 'react';
import { renderToString } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import type * as ReactEntry from '../../widget/react/index';
import type * as WidgetEntry from '../../widget/index';

const root = fileURLToPath(new URL('../../', import.meta.url));
const dist = (file: string) => pathToFileURL(`${root}dist/${file}`).href;

describe('SSR: the built entries on Node without a DOM', () => {
  it('runs where there is no DOM (the premise of the tests below)', () => {
    expect(typeof window).toBe('undefined');
    expect(typeof document).toBe('undefined');
    expect(typeof customElements).toBe('undefined');
  });

  it('imports dist/codegpt-widget.js and dist/react.js without throwing or adding a global', async () => {
    const before = Object.getOwnPropertyNames(globalThis);
    const widget = (await import(/* @vite-ignore */ dist('codegpt-widget.js'))) as typeof WidgetEntry;
    const react = (await import(/* @vite-ignore */ dist('react.js'))) as typeof ReactEntry;
    const after = Object.getOwnPropertyNames(globalThis);
    expect(after.filter((name) => !before.includes(name))).toEqual([]);
    expect(before.filter((name) => !after.includes(name))).toEqual([]);
    expect(typeof widget.mount).toBe('function');
    expect(react.CodeGPTChat.displayName).toBe('CodeGPTChat');
    // Still no DOM: nothing was polyfilled on the way.
    expect(typeof document).toBe('undefined');
  });

  it('mount() on the server logs one config error and returns an inert widget instead of throwing', async () => {
    const { mount } = (await import(/* @vite-ignore */ dist('codegpt-widget.js'))) as typeof WidgetEntry;
    const errors: unknown[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => void errors.push(args[0]);
    try {
      const w = mount({ agentId: 'a', tokenEndpoint: '/t' });
      expect(w.element).toBeNull();
      w.destroy();
    } finally {
      console.error = original;
    }
    expect(errors).toEqual([expect.stringContaining('needs a browser document')]);
  });

  it('renderToString emits nothing in bubble mode and only the empty container in inline mode', async () => {
    const { CodeGPTChat } = (await import(/* @vite-ignore */ dist('react.js'))) as typeof ReactEntry;
    const all = {
      agentId: 'mock-ssr',
      tokenEndpoint: '/dev/token',
      title: 'Docs <AI>',
      welcome: 'Hi "there"',
      suggestions: ['one', 'two'],
      strings: { send: 'Go' },
      getToken: () => Promise.resolve({ token: 't', expiresIn: 60 }),
      onAnswer: () => {},
    };
    expect(renderToString(createElement(CodeGPTChat, all))).toBe('');
    expect(renderToString(createElement(CodeGPTChat, { ...all, mode: 'bubble', open: true }))).toBe('');
    expect(renderToString(createElement(CodeGPTChat, { ...all, mode: 'inline' }))).toBe('<div></div>');
    expect(
      renderToString(createElement(CodeGPTChat, { ...all, mode: 'inline', className: 'chat', style: { height: 480 } })),
    ).toBe('<div class="chat" style="height:480px"></div>');
  });

  it('resolves through the package exports on plain Node (no bundler), as a Next.js server would', async () => {
    const script = `
      import { createElement } from 'react';
      import { renderToString } from 'react-dom/server';
      const before = Object.getOwnPropertyNames(globalThis);
      const widget = await import('codegpt-widget');
      const { CodeGPTChat } = await import('codegpt-widget/react');
      const added = Object.getOwnPropertyNames(globalThis).filter((n) => !before.includes(n));
      const html = renderToString(createElement(CodeGPTChat, { agentId: 'a', tokenEndpoint: '/t', mode: 'inline' }));
      console.log(JSON.stringify({ added, mount: typeof widget.mount, html }));
    `;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { cwd: root });
    expect(JSON.parse(stdout)).toEqual({ added: [], mount: 'function', html: '<div></div>' });
  });
});
