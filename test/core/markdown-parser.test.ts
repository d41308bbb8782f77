import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createMarkdownParser } from '../../widget/core/markdown/parser';
import type { MarkdownParserOptions, MarkdownSink, NodeAttrs, NodeKind } from '../../widget/core/markdown/parser';
import { chunkings } from '../helpers/chunk';

/**
 * A sink that records the parser's calls as compact markup (`<kind attr="v">text</kind>`, `<` in
 * text escaped) and checks the sink contract on every call: never an empty text, never a close
 * without an open, everything closed at the end. Where a chunk ended is not an event, so the
 * markup joins adjacent texts by construction.
 */
function recorder(options?: MarkdownParserOptions) {
  let markup = '';
  const stack: NodeKind[] = [];
  let depth = 0;
  let calls = 0;
  let textChars = 0;
  const sink: MarkdownSink = {
    open(kind: NodeKind, attrs?: NodeAttrs) {
      calls++;
      stack.push(kind);
      depth = Math.max(depth, stack.length);
      const list = attrs ? Object.entries(attrs).map(([k, v]) => ` ${k}=${JSON.stringify(v)}`).join('') : '';
      markup += `<${kind}${list}>`;
    },
    close() {
      calls++;
      const kind = stack.pop();
      if (!kind) throw new Error('close() without open()');
      markup += `</${kind}>`;
    },
    text(s: string) {
      calls++;
      if (typeof s !== 'string' || s === '') throw new Error(`text(${JSON.stringify(s)})`);
      textChars += s.length;
      markup += s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
    },
  };
  const parser = createMarkdownParser(sink, options);
  return {
    parser,
    markup: () => markup,
    finish(chunks: readonly string[]) {
      for (const chunk of chunks) parser.write(chunk);
      parser.end();
      if (stack.length) throw new Error(`left open: ${stack.join(' ')}`);
      return { markup, depth, calls, textChars, steps: parser.steps() };
    },
  };
}

const parse = (chunks: readonly string[], options?: MarkdownParserOptions) => recorder(options).finish(chunks);
const markup = (md: string, options?: MarkdownParserOptions) => parse([md], options).markup;

/** Markdown → expected events, one row per construct (and per chosen behaviour) of the parser. */
const TABLE: [name: string, md: string, expected: string][] = [
  ['paragraph', 'plain text',
    '<p>plain text</p>'],
  ['soft break and blank line', 'two\nlines\n\nnew para',
    '<p>two<br></br>lines</p><p>new para</p>'],
  ['ATX headings, not 7 #s, not #word', '# h1\n## h2\n###### h6\n####### seven\n#hashtag\n#',
    '<h1>h1</h1><h2>h2</h2><h6>h6</h6><p>####### seven<br></br>#hashtag</p><h1></h1>'],
  ['heading spaces', '#   spaced title\nafter',
    '<h1>spaced title</h1><p>after</p>'],
  ['fenced code with info, blank and indented lines', '```js extra\ncode\n\n  more\n```\nafter',
    '<pre lang="js extra">code\n\n  more</pre><p>after</p>'],
  ['tilde fence closes only on tildes of enough length', '~~~\na\n~~~~\n~~~\n```\nb\n``` \n',
    '<pre lang="">a</pre><pre lang="">```\nb\n``` </pre>'],
  ['a shorter fence does not close', '````\n```\nstill code\n````',
    '<pre lang="">```\nstill code</pre>'],
  ['unclosed fence runs to the end', '```\nunclosed\n',
    '<pre lang="">unclosed</pre>'],
  ['fence indentation is stripped', '   ```\n   a\n  b\n```',
    '<pre lang="">a\nb</pre>'],
  ['blockquote, lazy continuation, nesting', '> quote\ncontinued lazily\n\n> new\n>> nested\n> > nested2',
    '<blockquote><p>quote<br></br>continued lazily</p></blockquote><blockquote><p>new</p><blockquote><p>nested<br></br>nested2</p></blockquote></blockquote>'],
  ['fenced code in a blockquote', '> ```js\n> code\n>   indented\n> ```\n> after',
    '<blockquote><pre lang="js">code\n  indented</pre><p>after</p></blockquote>'],
  ['code is not continued lazily', '> ```\n> code\nlazy?',
    '<blockquote><pre lang="">code</pre></blockquote><p>lazy?</p>'],
  ['bullet list, any bullet continues it', '- a\n- b\n+ c\n* d',
    '<ul><li>a</li><li>b</li><li>c</li><li>d</li></ul>'],
  ['ordered list with start, across a blank line', '1. one\n2) two\n\n7. seven\n8. eight',
    '<ol start="1"><li>one</li><li>two</li><li>seven</li><li>eight</li></ol>'],
  ['ordered start number', '3. three\n4. four',
    '<ol start="3"><li>three</li><li>four</li></ol>'],
  ['nested by indentation', '- a\n  - b\n    - c\n  - d\n- e',
    '<ul><li>a<ul><li>b<ul><li>c</li></ul></li><li>d</li></ul></li><li>e</li></ul>'],
  ['second paragraph in an item', '- a\n\n  second para\n- b',
    '<ul><li>a<p>second para</p></li><li>b</li></ul>'],
  ['code in a list item', '- item\n\n  ```\n  code\n    deeper\n  ```\n- next',
    '<ul><li>item<pre lang="">code\n  deeper</pre></li><li>next</li></ul>'],
  ['list in a blockquote, lazy line', '> - a\n>   b\n> - c\nlazy',
    '<blockquote><ul><li>a<br></br>b</li><li>c<br></br>lazy</li></ul></blockquote>'],
  ['list inside ordered item', '1. a\n   - b\n2. c',
    '<ol start="1"><li>a<ul><li>b</li></ul></li><li>c</li></ol>'],
  ['empty items', '-\n- b\n*',
    '<ul><li></li><li>b</li><li></li></ul>'],
  ['nested bullets on one line', '- - a',
    '<ul><li><ul><li>a</li></ul></li></ul>'],
  ['task items', '- [ ] todo\n- [x] done\n- [X] Done\n- [y] not\n- [ ]\n- [] nope',
    '<ul><li><input checked=false></input> todo</li><li><input checked=true></input> done</li><li><input checked=true></input> Done</li><li>[y] not</li><li><input checked=false></input></li><li>[] nope</li></ul>'],
  ['numbers that are not list markers', '2024 was a year\n3.14 is pi\n1234567890. big',
    '<p>2024 was a year<br></br>3.14 is pi<br></br>1234567890. big</p>'],
  ['table: header, delimiter row dropped, inline cells', '| a | b |\n|---|:-:|\n| 1 | **2** |\nafter',
    '<table><tr><td> a </td><td> b </td></tr><tr><td> 1 </td><td> <strong>2</strong> </td></tr></table><p>after</p>'],
  ['table: escaped pipe, no trailing pipe', '| a |\n| b \\| c |\n|x',
    '<table><tr><td> a </td></tr><tr><td> b | c </td></tr><tr><td>x</td></tr></table>'],
  ['table in a blockquote', '> | a |\n> |---|\n> | b |',
    '<blockquote><table><tr><td> a </td></tr><tr><td> b </td></tr></table></blockquote>'],
  ['thematic breaks', '---\n***\n___\n- - -\n* * *\n--\n**bold**',
    '<hr></hr><hr></hr><hr></hr><hr></hr><hr></hr><p>--<br></br><strong>bold</strong></p>'],
  ['no setext headings', 'text\n---\nmore',
    '<p>text</p><hr></hr><p>more</p>'],
  ['block starts interrupt a paragraph', 'para\n# heading\npara\n```\ncode\n```\npara\n| t |\npara\n> q',
    '<p>para</p><h1>heading</h1><p>para</p><pre lang="">code</pre><p>para</p><table><tr><td> t </td></tr></table><p>para</p><blockquote><p>q</p></blockquote>'],
  ['no indented code', 'x\n\n    indented',
    '<p>x</p><p>indented</p>'],
  ['emphasis kinds', '*em* _em_ **strong** __strong__ ***both*** ~~strike~~',
    '<p><em>em</em> <em>em</em> <strong>strong</strong> <strong>strong</strong> <em><strong>both</strong></em> <s>strike</s></p>'],
  ['intraword: * yes, _ no; spaced stars are text', 'snake_case_word and 2*3*4 and a * b',
    '<p>snake_case_word and 2<em>3</em>4 and a * b</p>'],
  ['nested emphasis', '**a *b*** *a **b** c*',
    '<p><strong>a <em>b</em></strong> <em>a <strong>b</strong> c</em></p>'],
  ['single tilde is text', '~a~ ~~b~~',
    '<p>~a~ <s>b</s></p>'],
  ['runs longer than 3 are text', '****x**** ````y',
    '<p>****x**** ````y</p>'],
  ['unclosed emphasis stays open to the paragraph end', '**unclosed strong\nsecond line\n\nnew',
    '<p><strong>unclosed strong<br></br>second line</strong></p><p>new</p>'],
  ['block structure wins over inline', '**a\n- b** c',
    '<p><strong>a</strong></p><ul><li>b** c</li></ul>'],
  ['code spans, multi-backtick, no markup inside', '`code` ``co`de`` `*a* [b](c)` ````four',
    '<p><code>code</code> <code>co`de</code> <code>*a* [b](c)</code> ````four</p>'],
  ['code span across a soft break', '`a\nb` c',
    '<p><code>a<br></br>b</code> c</p>'],
  ['links: title dropped, balanced parentheses, escapes', '[link](https://a.test) [t](https://a.test "title") [p](https://w.test/Foo_(bar)) [q](u (t)) [e](x\\)y)',
    '<p><a href="https://a.test">link</a> <a href="https://a.test">t</a> <a href="https://w.test/Foo_(bar)">p</a> <a href="u">q</a> <a href="x)y">e</a></p>'],
  ['<…> destinations: the brackets are dropped, anything after `>` too', '[a](<https://a.test/x>) ![i](<i.png> "t") [j](<u>junk) [k](<v)',
    '<p><a href="https://a.test/x">a</a> <img href="i.png" alt="i"></img> <a href="u">j</a> <a href="<v">k</a></p>'],
  ['javascript: URL ends at its balanced )', '[x](javascript:alert(1)) after',
    '<p><a href="javascript:alert(1)">x</a> after</p>'],
  ['not a link: junk after the destination, unclosed title, white space', '[y](a b c) [c](d "unclosed) [x](java\tscript:x)',
    '<p>[y](a b c) [c](d "unclosed) [x](java\tscript:x)</p>'],
  ['markup in link text', '[a *b* `c`](https://l.test)',
    '<p><a href="https://l.test">a <em>b</em> <code>c</code></a></p>'],
  ['innermost brackets make the link', '[a [b](https://in.test) c](https://out.test)',
    '<p>[a <a href="https://in.test">b</a> c](<a href="https://out.test">https://out.test</a>)</p>'],
  ['brackets that are not links', '[not a link] a[0] [also](not\nmore',
    '<p>[not a link] a[0] [also](not<br></br>more</p>'],
  ['images, alt as written', '![alt](https://i.test/a.png) ![a *b*](i.png \'title\')',
    '<p><img href="https://i.test/a.png" alt="alt"></img> <img href="i.png" alt="a *b*"></img></p>'],
  ['image inside a link', '[![img](https://i.test/b.png)](https://l.test)',
    '<p><a href="https://l.test"><img href="https://i.test/b.png" alt="img"></img></a></p>'],
  ['reference links and definitions are text, not autolinks (A5)', '![a][r] [r]\n\n[r]: https://attacker.test/?d=1\n[s]: <https://attacker.test/>',
    '<p>![a][r] [r]</p><p>[r]: https://attacker.test/?d=1<br></br>[s]: &lt;https://attacker.test/></p>'],
  ['angle autolinks; raw HTML is text', '<https://a.test/x> <mailto:me@a.test> <b>bold</b> <script>alert(1)</script>',
    '<p><a href="https://a.test/x">https://a.test/x</a> <a href="mailto:me@a.test">mailto:me@a.test</a> &lt;b>bold&lt;/b> &lt;script>alert(1)&lt;/script></p>'],
  ['bare URLs: trailing punctuation and unbalanced ) excluded', 'see https://a.test/p?q=1. and (https://w.test/Foo_(bar)) and https://x.test/a_b_c, ok',
    '<p>see <a href="https://a.test/p?q=1">https://a.test/p?q=1</a>. and (<a href="https://w.test/Foo_(bar)">https://w.test/Foo_(bar)</a>) and <a href="https://x.test/a_b_c">https://x.test/a_b_c</a>, ok</p>'],
  ['bare URLs need a word start and //', 'xhttps://no.test ahttp h http:x https:/',
    '<p>xhttps://no.test ahttp h http:x https:/</p>'],
  ['bare URL inside emphasis', '**https://x.test/a** _https://x.test/a_b_',
    '<p><strong><a href="https://x.test/a">https://x.test/a</a></strong> <em><a href="https://x.test/a_b">https://x.test/a_b</a></em></p>'],
  ['backslash escapes', '\\*not\\* \\[no\\] \\` \\a \\\\',
    '<p>*not* [no] ` \\a \\</p>'],
  ['hard breaks are line breaks like any newline', 'line one  \nline two\\\nthree',
    '<p>line one  <br></br>line two<br></br>three</p>'],
  ['CRLF', 'a\r\nb\r\n\r\n- c\r\n',
    '<p>a<br></br>b</p><ul><li>c</li></ul>'],
];

describe('events per construct', () => {
  it.each(TABLE)('%s', (_, md, expected) => {
    // Whole, one code point at a time, and seeded random chunks: identical events.
    for (const chunking of chunkings(md, 11)) {
      expect(parse(chunking.chunks).markup, chunking.name).toBe(expected);
    }
    // Also split inside surrogate pairs and CRLFs (any code unit boundary).
    expect(parse(md.split('')).markup).toBe(expected);
  });
});

describe('streaming', () => {
  it('emits plain text as soon as it arrives, nothing held', () => {
    const r = recorder();
    r.parser.write('Hello wor');
    expect(r.markup()).toBe('<p>Hello wor');
    r.parser.write('ld');
    expect(r.markup()).toBe('<p>Hello world');
  });

  it('holds only a pending marker run until the next character decides it', () => {
    const r = recorder();
    r.parser.write('a **');
    expect(r.markup()).toBe('<p>a ');
    r.parser.write('b');
    expect(r.markup()).toBe('<p>a <strong>b');
    r.parser.write('** c *');
    expect(r.markup()).toBe('<p>a <strong>b</strong> c ');
    r.parser.write(' d');
    expect(r.markup()).toBe('<p>a <strong>b</strong> c * d');
  });

  it('decides a line start after a few characters', () => {
    const r = recorder();
    r.parser.write('-');
    expect(r.markup()).toBe('');
    r.parser.write(' ');
    expect(r.markup()).toBe(''); // `- ` may still be `- - -`
    r.parser.write('i');
    expect(r.markup()).toBe('<ul><li>i');
    r.parser.write('tem\n12');
    expect(r.markup()).toBe('<ul><li>item');
    r.parser.write('3x');
    expect(r.markup()).toBe('<ul><li>item<br></br>123x');
  });

  it('holds a link until its destination is complete, then emits it whole', () => {
    const r = recorder();
    r.parser.write('see [the docs](https://ok.test/a_(b)');
    expect(r.markup()).toBe('<p>see ');
    r.parser.write(')');
    expect(r.markup()).toBe('<p>see <a href="https://ok.test/a_(b)">the docs</a>');
  });

  it('emits an image only once its URL is complete', () => {
    const r = recorder();
    r.parser.write('![x](https://img.test/a.png');
    expect(r.markup()).toBe('<p>');
    r.parser.write(' "t")');
    expect(r.markup()).toBe('<p><img href="https://img.test/a.png" alt="x"></img>');
  });

  it('streams fenced code line by line, holding only a possible closing fence', () => {
    const r = recorder();
    r.parser.write('```py\nprint(1)\n');
    expect(r.markup()).toBe('<pre lang="py">print(1)');
    r.parser.write('``');
    expect(r.markup()).toBe('<pre lang="py">print(1)');
    r.parser.write('x');
    expect(r.markup()).toBe('<pre lang="py">print(1)\n``x');
  });

  it('end() flushes what is held, once; later calls do nothing', () => {
    const r = recorder();
    r.parser.write('a *');
    r.parser.end();
    expect(r.markup()).toBe('<p>a *</p>');
    r.parser.write('more');
    r.parser.end();
    expect(r.markup()).toBe('<p>a *</p>');
  });

  it('ends an unfinished link or autolink as literal text', () => {
    expect(markup('click [here](https://ok.test/unfinished')).toBe('<p>click [here](https://ok.test/unfinished</p>');
    expect(markup('x <https://ok.test')).toBe('<p>x &lt;https://ok.test</p>');
    expect(markup('x https://ok.test/p')).toBe('<p>x <a href="https://ok.test/p">https://ok.test/p</a></p>');
  });
});

describe('caps', () => {
  it('caps block nesting at maxDepth (default 16); deeper markers are text', () => {
    const deep = parse(['>'.repeat(10_000) + ' x']);
    expect(deep.markup).toBe('<blockquote>'.repeat(16) + '<p>' + '>'.repeat(10_000 - 16) + ' x</p>' + '</blockquote>'.repeat(16));
    expect(markup('>>> x', { maxDepth: 2 })).toBe('<blockquote><blockquote><p>> x</p></blockquote></blockquote>');
    const lists = Array.from({ length: 40 }, (_, i) => `${'  '.repeat(i)}- ${i}`).join('\n');
    const r = parse([lists]);
    expect(r.markup.split('<ul>').length - 1).toBe(16);
    expect(r.markup).toContain('15<br></br>- 16<br></br>- 17');
  });

  it('caps inline nesting at maxInline (default 8); deeper markers are text', () => {
    expect(markup('*_*_*_*_*_x')).toBe('<p>' + '<em>'.repeat(8) + '*_x' + '</em>'.repeat(8) + '</p>');
    expect(markup('**__a', { maxInline: 1 })).toBe('<p><strong>__a</strong></p>');
    expect(markup('*[a](b)*', { maxInline: 1 })).toBe('<p><em>a</em></p>');
  });

  it('flushes held text past 4 KiB as literal text', () => {
    const longText = 'a'.repeat(5000);
    expect(markup(`[${longText}](u)`)).toBe(`<p>[${longText}](u)</p>`);
    const longUrl = 'https://ok.test/' + 'b'.repeat(5000);
    expect(markup(`[x](${longUrl})`)).toBe(`<p>[x](${longUrl})</p>`);
    expect(markup(`<${longUrl}>`)).toBe(`<p>&lt;${longUrl}></p>`);
    expect(markup(`${longUrl} x`)).toBe(`<p>${longUrl} x</p>`);
    // Just under the cap they are still links.
    const okUrl = 'https://ok.test/' + 'c'.repeat(4000);
    expect(markup(`[x](${okUrl})`)).toBe(`<p><a href="${okUrl}">x</a></p>`);
    expect(markup(`${okUrl} x`)).toBe(`<p><a href="${okUrl}">${okUrl}</a> x</p>`);
  });
});

/** 100k-character inputs aimed at every lookahead and hold of the parser. */
const N = 100_000;
const fill = (s: string) => s.repeat(Math.ceil(N / s.length)).slice(0, N);
const ADVERSARIAL: Record<string, string> = {
  'stars': fill('*'),
  'underscores': fill('_'),
  'backticks after text': 'a ' + fill('`'),
  'backtick pairs': fill('`a'),
  'tildes': fill('~'),
  'brackets': fill('['),
  'image openers': fill('!['),
  'angle brackets': fill('<'),
  'alternating emphasis': fill('*_'),
  'strong runs': fill('**a'),
  'quote markers': fill('>'),
  'quote markers with spaces': fill('> '),
  'bullets on one line': fill('- '),
  'ordered markers on one line': fill('1. '),
  'nested list lines': Array.from({ length: 10_000 }, (_, i) => `${'  '.repeat(i % 300)}- x`).join('\n'),
  'long link URL': '[x](' + fill('a'),
  'long link text': '[' + fill('a'),
  'long image URL': '![x](https://img.test/' + fill('a'),
  'long autolink': '<' + fill('a'),
  'long bare URL': 'https://' + fill('a'),
  'bare URL of parentheses': 'https://x/' + fill(')'),
  'bare URL of dots': 'https://x/' + fill('.'),
  'long fence body': '```\n' + fill('x'),
  'long fence info': '```' + fill('a'),
  'fence of backticks': '```\n' + fill('`'),
  'almost-closing fence lines': '```\n' + fill('``` x\n'),
  'table delimiter': '|' + fill('-'),
  'table cells': '| a |\n' + fill('|*'),
  'dash line': fill('-'),
  'spaced dash line': fill('- '),
  'hashes': fill('#'),
  'digits': fill('1'),
  'indentation': fill(' ') + 'x',
  'backslashes': fill('\\'),
  'empty brackets': fill('[]'),
  'bracket-parens': fill(']('),
  'failed links': fill('[a]'),
  'unfinished links': fill('[a](b'),
  'unfinished images': fill('![a]('),
  'unclosed title': '[a](b "' + fill('x'),
  'URL prefixes': fill('http:/'),
  'task markers': fill('- [ ] '),
  'failed task markers': fill('- [x'),
  'newlines': fill('\n'),
  'quote lines': fill('>\n'),
  'list lines': fill('- a\n'),
  'code span lines': fill('`a\nb'),
  'images in links': fill('[![a](b)](c)'),
  'autolinks': fill('<https://a.b> '),
  'bare URLs': fill('https://a.b '),
  'definition lines': fill('[r]: https://a\n'),
  'everything': fill('*[`<h!_~\\>-|#1. \n'),
};

describe('linear time and bounded output, without timing', () => {
  it.each(Object.entries(ADVERSARIAL))('%s: O(n) steps and sink calls', (_, md) => {
    const whole = parse([md]);
    // Every character is examined a bounded number of times (held text is re-read at most twice).
    expect(whole.steps).toBeLessThanOrEqual(3 * md.length);
    expect(whole.calls).toBeLessThanOrEqual(2 * md.length);
    expect(whole.textChars).toBeLessThanOrEqual(md.length);
    expect(whole.depth).toBeLessThanOrEqual(44);
  });

  it('the step counter is not vacuous: it counts every character, and re-reads', () => {
    // 3 characters, and the newline end() feeds to resolve the last line.
    expect(parse(['abc']).steps).toBe(3 + 1);
    // `- x`: `- ` held as a possible rule, read again as a list marker, whose space is handed on.
    expect(parse(['- x']).steps).toBe(3 + 2 + 2 + 1);
    // A failed link's `[ab]` is read again as literal text.
    expect(parse(['[ab] ']).steps).toBe(5 + 4 + 1);
  });

  it('gives the same events for a long adversarial mix fed one character at a time', () => {
    const md = ADVERSARIAL.everything!.slice(0, 20_000);
    const whole = parse([md]);
    const byChar = parse(md.split(''));
    expect(byChar.markup).toBe(whole.markup);
    expect(byChar.steps).toBe(whole.steps);
  });
});

describe('properties', () => {
  const ALPHABET = [...'*_~`[]()!#>-+|.\n 1x:/h\\<>"\'\t', 'https://', '```', '- [x] ', '1. ', '> ', '| a |', '![a](b)'];
  const doc = fc.array(fc.constantFrom(...ALPHABET), { maxLength: 120 }).map((parts) => parts.join(''));
  const sizes = fc.array(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: 40 });

  it('gives identical events under any chunking, never throws, stays balanced and bounded', () => {
    fc.assert(
      fc.property(doc, sizes, (md, cuts) => {
        const whole = parse([md]);
        const chunks: string[] = [];
        for (let i = 0, k = 0; i < md.length; k++) {
          const n = cuts[k % cuts.length]!;
          chunks.push(md.slice(i, i + n));
          i += n;
        }
        expect(parse(chunks).markup).toBe(whole.markup);
        expect(parse(md.split('')).markup).toBe(whole.markup);
        expect(whole.steps).toBeLessThanOrEqual(3 * md.length + 8);
        expect(whole.depth).toBeLessThanOrEqual(44);
      }),
      { numRuns: 500 },
    );
  });

  it('keeps every character of plain text, in order', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z ,]{0,80}$/), (md) => {
        const expected = md.trim() === '' ? '' : `<p>${md.replace(/^ +/, '')}</p>`;
        expect(markup(md)).toBe(expected);
      }),
      { numRuns: 300 },
    );
  });
});
