// @vitest-environment happy-dom
import { h } from 'preact';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, render } from '@testing-library/preact';
import { Markdown } from '../../widget/view/Markdown';
import type { MarkdownProps } from '../../widget/view/Markdown';

const strings = { copy: 'Copy', copied: 'Copied', truncated: 'Cut short.', image: 'Image:' };
const base: MarkdownProps = { text: '', imageHosts: [], strings, baseUrl: 'https://page.test/' };

afterEach(() => {
  cleanup();
  vi.restoreAllMocks();
});

function content(container: Element): HTMLElement {
  return container.querySelector('[part="content"]') as HTMLElement;
}

describe('Markdown', () => {
  it('renders a div part="content" holding the markdown', () => {
    const { container } = render(<Markdown {...base} text="Hello **world**" final />);
    expect(content(container).innerHTML).toBe('<p>Hello <strong>world</strong></p>');
    expect(content(container).className).toBe('content');
  });

  it('appends as text grows: existing nodes are kept and only the suffix is parsed', () => {
    const { container, rerender } = render(<Markdown {...base} text="First para" />);
    const el = content(container);
    const firstP = el.querySelector('p');
    // Plain text is never held back: all of it shows at once.
    expect(firstP?.textContent).toBe('First para');

    const appendChild = vi.spyOn(Node.prototype, 'appendChild');
    rerender(<Markdown {...base} text="First paragraph." />);
    rerender(<Markdown {...base} text={'First paragraph.\n\nSecond **bold'} />);
    rerender(<Markdown {...base} text={'First paragraph.\n\nSecond **bold** end'} final />);

    expect(el.querySelector('p')).toBe(firstP);
    expect(content(container)).toBe(el);
    expect(el.innerHTML).toBe('<p>First paragraph.</p><p>Second <strong>bold</strong> end</p>');
    // New nodes only: 2nd p, strong, and a few text nodes; nothing re-appended or rebuilt.
    expect(appendChild.mock.calls.length).toBeLessThanOrEqual(6);
  });

  it('gives the same DOM whether text arrives at once or one character per render', () => {
    const text = '# T\n\n- a *b*\n- [c](https://ok.test)\n\n```js\nx()\n```\n';
    const once = render(<Markdown {...base} text={text} final />);
    const expected = content(once.container).innerHTML;
    const stepwise = render(<Markdown {...base} text="" />);
    for (let i = 1; i <= text.length; i++) stepwise.rerender(<Markdown {...base} text={text.slice(0, i)} />);
    stepwise.rerender(<Markdown {...base} text={text} final />);
    expect(content(stepwise.container).innerHTML).toBe(expected);
    expect(expected).toContain('<a href="https://ok.test/"');
  });

  it('rebuilds when the text is replaced rather than extended', () => {
    const { container, rerender } = render(<Markdown {...base} text="Old answer" />);
    const el = content(container);
    const oldP = el.querySelector('p');
    rerender(<Markdown {...base} text="New" />);
    expect(el.querySelector('p')).not.toBe(oldP);
    expect(el.innerHTML).toBe('<p>New</p>');
    rerender(<Markdown {...base} text="New text" final />);
    expect(el.innerHTML).toBe('<p>New text</p>');
  });

  it('rebuilds when a finished answer grows again (a retried answer)', () => {
    const { container, rerender } = render(<Markdown {...base} text="Partial" final />);
    const el = content(container);
    const oldP = el.querySelector('p');
    expect(el.innerHTML).toBe('<p>Partial</p>');
    rerender(<Markdown {...base} text="Partial answer" final />);
    expect(el.querySelector('p')).not.toBe(oldP);
    expect(el.innerHTML).toBe('<p>Partial answer</p>');
  });

  it('flushes the parser when final becomes true', () => {
    // A trailing `*` is held by the parser until it knows whether emphasis starts.
    const { container, rerender } = render(<Markdown {...base} text="a *" />);
    expect(content(container).textContent).toBe('a ');
    rerender(<Markdown {...base} text="a *" final />);
    expect(content(container).textContent).toBe('a *');
    rerender(<Markdown {...base} text="a *" final />);
    expect(content(container).textContent).toBe('a *');
  });

  it('passes image hosts and the base URL to the renderer', () => {
    const { container } = render(
      <Markdown
        {...base}
        imageHosts={['img.ok.test']}
        text="![a](https://img.ok.test/a.png) ![b](https://evil.test/b.png) [r](/rel)"
        final
      />,
    );
    const el = content(container);
    expect(el.querySelectorAll('img').length).toBe(1);
    expect(el.querySelector('img')?.getAttribute('src')).toBe('https://img.ok.test/a.png');
    expect(el.querySelector('a[href="https://page.test/rel"]')).not.toBeNull();
  });

  it('honours maxChars', () => {
    const { container } = render(<Markdown {...base} maxChars={3} text="abcdef" final />);
    expect(content(container).innerHTML).toBe('<p>abc</p><p data-truncated="">Cut short.</p>');
  });
});
