/**
 * A compact incremental markdown parser for streamed assistant answers (style rules 11 and 13).
 * Pure: it reads text and calls a {@link MarkdownSink}; building DOM, and every safety decision about
 * URLs, is the sink's job (view/markdown-renderer.ts with core/markdown/sanitize.ts).
 *
 * Design: one state machine over characters, a line-start part and an inline part. Every decision
 * depends only on the text read so far, never on where a chunk ended, so feeding a document whole,
 * one character at a time or in random chunks gives the same events (once adjacent `text` calls are
 * joined). Text is emitted as soon as it cannot be markup; what is held back is short or capped:
 *
 * - at a line start, the few characters that decide the block (`- `, `12. `, `###`, a fence, `[x] `),
 *   and a line that may still be a thematic break or a table delimiter row (at most 4 KiB);
 * - inline, a delimiter run of at most 3 (longer runs are literal and stream at once), a `\` or `!`,
 *   a `<…>` autolink candidate, a bare `https://…` URL, and a link or image from `[` to its `)`
 *   (at most 4 KiB; past that they are flushed as literal text).
 *
 * Every character is examined a small bounded number of times: text held by a lookahead that fails
 * is read again once with that lookahead off, and text re-read as literal never starts a new hold,
 * so the work is linear (the tests assert at most 3 steps per character on adversarial input).
 * Nothing recurses on input structure. Block containers are capped at `maxDepth` and inline
 * elements at `maxInline`; past the caps markers are text.
 *
 * Chosen behaviours (where streaming rules out CommonMark's look-ahead):
 * - Emphasis is optimistic: a run of 1–3 `*`/`_` (or exactly `~~`) that can open opens at once
 *   (`_` not inside words); one that is never closed stays open until its paragraph, heading or
 *   table cell ends. A backtick run opens a code span the same way. Runs longer than 3 are text.
 * - A soft line break inside a paragraph is a `br` (chat answers mean their newlines).
 * - Links and images are held until `](url)` completes, then emitted whole (so an image's URL is
 *   never seen half-written): link text on one line, destination with balanced parentheses, an
 *   optional title (dropped). A `[` that does not become a link is literal, and a new `[` in a
 *   pending link's text ends it that way (the innermost brackets make the link, as in CommonMark).
 *   Text read again after a failed `[` keeps emphasis and code spans but starts no link or image
 *   (`[a ![b](c)]` shows the image as text). Links never contain links or autolinks; they may
 *   contain images. Bare URLs need `http://` or `https://` at a word start.
 * - Not supported, rendered as text: raw HTML, reference links and definitions (after `]:` no
 *   autolink on that line: reliability A5), setext headings, indented code, footnotes, math,
 *   closing `#`s of headings, table alignment. Tables need a leading `|` and start optimistically
 *   (the first row is the header, `|---|` rows are dropped). Any bullet char continues a list.
 * - List items: a paragraph that is the first thing in an item is not wrapped in `p` (tight list).
 */

/**
 * What the parser opens; each is the HTML tag a renderer would use. `pre` is a fenced code block
 * (its text is the code), `input` a task-list checkbox, `td` any table cell (the first row of a
 * table is its header), `img` an image with no children. Every `open` is matched by a `close`.
 */
export type NodeKind =
  | 'p' | 'h1' | 'h2' | 'h3' | 'h4' | 'h5' | 'h6' | 'blockquote' | 'ul' | 'ol' | 'li' | 'pre' | 'hr'
  | 'table' | 'tr' | 'td' | 'br' | 'input' | 'em' | 'strong' | 's' | 'code' | 'a' | 'img';

/** Attributes of an opened node, exactly as written in the markdown: the sink must check them. */
export interface NodeAttrs {
  /** `a`, `img`: the destination (without title; escapes resolved; may be `<…>`-bracketed). */
  href?: string;
  /** `img`: the alt text as written. */
  alt?: string;
  /** `pre`: the fence's info string (at most 64 characters). */
  lang?: string;
  /** `ol`: the first item's number, 1–9 digits. */
  start?: string;
  /** `input`: the task is done (`[x]`). */
  checked?: boolean;
}

/** Receives the document as properly nested open/close calls with text in between. */
export interface MarkdownSink {
  open(kind: NodeKind, attrs?: NodeAttrs): void;
  close(): void;
  /** Text for the innermost open node (never empty; may be split anywhere across calls). */
  text(s: string): void;
}

/** An incremental parser; see {@link createMarkdownParser}. */
export interface MarkdownParser {
  /** Parse the next piece of the document; the text that can no longer be markup is emitted now. */
  write(chunk: string): void;
  /** The document is complete: resolve what is held back and close everything. Later calls do nothing. */
  end(): void;
  /** Characters examined so far, re-reads included: a probe for linearity tests. */
  steps(): number;
}

/** Options of {@link createMarkdownParser}. */
export interface MarkdownParserOptions {
  /** Nested block containers (blockquotes, lists) kept; deeper markers are text. @defaultValue 16 */
  maxDepth?: number;
  /** Nested inline elements (emphasis, code span, link) kept; deeper markers are text. @defaultValue 8 */
  maxInline?: number;
}

/** Longest text held back by one lookahead (link, autolink, URL, rule or delimiter row, fence). */
const CAP = 4096;

// Modes (plain numbers, named in comments, so they minify to one digit). A line starts in LINE and
// leaves it once its block kind is known; the short lookaheads in between hold only what they need.
//   0 LINE   indentation, container markers, then the block start
//   1 MARK   a list marker waiting for its space        2 NUM    digits of an ordered list marker
//   3 HASH   heading marker                             4 FENCE  opening fence run
//   5 INFO   fence info string                          6 RULE   a line that may be a thematic break
//   7 TROW   a table row that may be a delimiter row    8 TASK   `[ ]` / `[x]` after a list marker
//   9 CLOSE  a code line that may be the closing fence 10 CODE   fenced code text
//  11 INL    inline text of a paragraph, heading or table cell

const ws = (c: string) => /\s/.test(c);
const sp = (c: string) => c === ' ' || c === '\t';
const digit = (c: string) => /\d/.test(c);
const alnum = (c: string) => /[\p{L}\p{N}]/u.test(c);

/** A block container: blockquote (`k` = '>') or list; `n` = content column, `d` = depth inside it. */
interface Container {
  k: string;
  n: number;
  d: number;
}

/**
 * Create an incremental markdown parser that reports to `sink` (see the module comment for the
 * syntax and the chosen behaviours).
 */
export function createMarkdownParser(sink: MarkdownSink, options: MarkdownParserOptions = {}): MarkdownParser {
  const { maxDepth = 16, maxInline = 8 } = options;
  /** Open nodes, innermost last: a kind, or for inline styles the delimiter that opened them. */
  const E: string[] = [];
  const C: Container[] = [];
  let out = ''; // text not yet given to the sink
  let steps = 0;
  let ended = false;
  let mode = 0 /* LINE */;
  let col = 0; // column on this line
  let m = 0; // containers matched on this line
  let leaf = ''; // open leaf block: '', 'p', 'h', 'pre' or 'table'
  let ib = 0; // E.length where the leaf's inline content starts
  let fresh = -1; // E.length just after a list item opened, until anything opens inside it
  let noRule = 0; // this line was already tried as a thematic break
  let task = 0; // a list marker just opened an item
  let held: string; // characters held by a line-start lookahead
  let cnt: number; // column where the lookahead began; fence run length in CLOSE
  let ch: string; // marker character of RULE/FENCE
  let mk: string; // list kind in MARK
  let fc: string; // open fence: character, length, indentation; pending newline
  let fl: number;
  let fi: number;
  let nl: number;
  let tr: number; // E.length inside the open table row
  let sk = 0; // skip spaces before a heading's text
  // Inline state.
  let prev = '\n'; // last inline character, for delimiter flanking
  let pk = ''; // pending construct: '\\', '!', '*', '_', '~', '`', '[', '<' or 'h' (bare URL)
  let run: number; // delimiter run length
  let cf: number; // backtick count of the open code span
  let lvl = 0; // 0: everything; 1: inside link text (images only); 2: literal replay (no holds)
  let noAuto = 0; // after `]:` on this line: no autolinks
  let raw: string; // held inline text, markers included
  let img: boolean; // the held `[` is an image's
  let ph: number; // link phase: 0 text, 1 after `]`, 2 destination, 3 before title, 4 title, 5 after it; bare URL: 1 past `//`
  let hd: number; // bracket depth in link text
  let pd: number; // parenthesis depth in the destination
  let ti: number; // end of the link text in raw
  let url: string;
  let esc: number;
  let tq: string; // open title quote

  const flush = () => {
    if (out) sink.text(out);
    out = '';
  };
  const emit = (s: string) => {
    out += s;
    prev = s[s.length - 1] as string;
  };
  const open = (k: NodeKind, a?: NodeAttrs, mark: string = k) => {
    flush();
    sink.open(k, a);
    E.push(mark);
    fresh = -1;
  };
  const close = () => {
    flush();
    sink.close();
    E.pop();
  };
  /** A node with no content: `br`, `hr`, `input`, `img`. */
  const empty = (k: NodeKind, a?: NodeAttrs) => {
    open(k, a);
    close();
  };
  /** Inline content of a leaf starts here. */
  const inline = (k?: NodeKind) => {
    if (k) open(k);
    ib = E.length;
    prev = '\n';
    mode = 11 /* INL */;
  };
  const closeTo = (d: number) => {
    while (E.length > d) close();
  };
  /** Close the leaf block and the containers from index k on. */
  const shut = (k: number) => {
    closeTo(k ? (C[k - 1] as Container).d : 0);
    C.length = k;
    leaf = '';
  };
  const top = () => E[E.length - 1];
  const room = (k: number) => E.length - ib + k <= maxInline;
  const feed = (s: string) => {
    for (let i = 0; i < s.length; i++) step(s[i] as string);
  };
  /** Re-read held text with no holds, so it is never held again (keeps the work linear). */
  const lit = (s: string) => {
    const l = lvl;
    lvl = 2;
    feed(s);
    lvl = l;
  };
  const next = () => {
    mode = 0 /* LINE */;
    col = m = noRule = task = noAuto = sk = 0;
  };
  /** Start a paragraph, or continue the open one (a soft break; lazily, as CommonMark). */
  const para = () => {
    if (leaf === 'p') {
      empty('br');
      mode = 11 /* INL */;
      prev = '\n';
    } else {
      shut(m);
      inline(fresh !== E.length ? 'p' : undefined);
      leaf = 'p';
    }
    fresh = -1;
  };
  /** A line-start lookahead turned out to be paragraph text. */
  const fail = (c: string) => {
    para();
    feed(held);
    step(c);
  };
  /** Start of a fenced code line: the pending newline and the indentation past the fence's. */
  const code = () => {
    out += (nl ? '\n' : '') + ' '.repeat(Math.max(0, col - fi));
    nl = 0;
    mode = 10 /* CODE */;
  };

  function step(c: string): void {
    steps++;
    switch (mode) {
      case 0: // LINE
        return line(c);
      case 1: // MARK
        return ws(c) ? item(c) : fail(c);
      case 2: // NUM
        if (digit(c) && held.length < 9) held += c;
        else if (c === '.' || c === ')') {
          held += c;
          mode = 1 /* MARK */;
          mk = 'ol';
        } else fail(c);
        return;
      case 3: // HASH
        if (c === '#' && held.length < 6) held += c;
        else if (!ws(c)) fail(c);
        else {
          shut(m);
          inline(('h' + held.length) as NodeKind);
          leaf = 'h';
          sk = 1;
          step(c);
        }
        return;
      case 4: // FENCE
        if (c === ch && held.length < CAP) held += c;
        else if (held.length < 3) fail(c);
        else {
          shut(m);
          fl = held.length;
          fc = ch;
          fi = cnt;
          held = '';
          mode = 5 /* INFO */;
          step(c);
        }
        return;
      case 5: // INFO
        if (c !== '\n') {
          if (held.length < 64) held += c;
          return;
        }
        open('pre', { lang: held });
        leaf = 'pre';
        nl = 0;
        return next();
      case 6: // RULE
        if ((c === ch || sp(c)) && held.length < CAP) held += c;
        else if (c === '\n' && held.split(ch).length > 3) {
          shut(m);
          empty('hr');
          next();
        } else {
          // Not a break: read the line again as list markers or text.
          noRule = 1;
          mode = 0 /* LINE */;
          feed(held);
          step(c);
        }
        return;
      case 7: // TROW
        if (/[-:| \t]/.test(c) && held.length < CAP) held += c;
        else if (c === '\n' && held.includes('-')) next(); // a |---| delimiter row: dropped
        else {
          open('tr');
          tr = E.length;
          mode = 11 /* INL */;
          feed(held);
          step(c);
        }
        return;
      case 8: // TASK
        if (!/^\[([ xX](]\s?)?)?$/.test(held + c)) return fail(c);
        if ((held += c).length < 4) return;
        para();
        empty('input', { checked: held[1] !== ' ' });
        return step(c);
      case 9: // CLOSE
        if (held.length < CAP && (c === fc && cnt === held.length ? ++cnt : sp(c))) held += c;
        else if (c === '\n' && cnt >= fl) {
          shut(C.length);
          next();
        } else {
          code();
          out += held;
          step(c);
        }
        return;
      case 10: // CODE
        if (c !== '\n') out += c;
        else {
          nl = 1;
          next();
        }
        return;
      default:
        return inl(c);
    }
  }

  function line(c: string): void {
    if (c === ' ') return void col++;
    if (c === '\t') return void (col += 4 - (col % 4));
    // Which open containers does this line continue? Quotes need `>`, list items indentation.
    for (let k; (k = C[m]); m++) {
      if (k.k === '>') {
        if (c !== '>') break;
        m++;
        col++;
        return;
      }
      if (col < k.n && c !== '\n') break;
    }
    if (leaf === 'pre' && m === C.length) {
      if (c === '\n') {
        if (nl) out += '\n';
        nl = 1;
        return next();
      }
      if (c === fc && col - fi < 4) {
        held = c;
        cnt = 1;
        mode = 9 /* CLOSE */;
        return;
      }
      code();
      return step(c);
    }
    if (c === '\n') {
      shut(m); // a blank line ends the leaf, and the quotes it did not continue
      return next();
    }
    held = c;
    cnt = col;
    if (c === '>' && m < maxDepth) {
      shut(m);
      open('blockquote');
      C.push({ k: c, n: 0, d: E.length });
      m++;
      col++;
    } else if (!noRule && '-*_'.includes(c)) {
      mode = 6 /* RULE */;
      ch = c;
    } else if ('-*+'.includes(c)) {
      mode = 1 /* MARK */;
      mk = 'ul';
    } else if (digit(c)) mode = 2 /* NUM */;
    else if (c === '#') mode = 3 /* HASH */;
    else if ('`~'.includes(c)) {
      mode = 4 /* FENCE */;
      ch = c;
    } else if (c === '|') {
      if (leaf !== 'table' || m < C.length) {
        shut(m);
        open('table');
        leaf = 'table';
      }
      held = '';
      mode = 7 /* TROW */;
    } else if (c === '[' && task) mode = 8 /* TASK */;
    else {
      para();
      inl(c);
    }
  }

  /** A list marker (in `held`, from column `cnt`) followed by white space `c`. */
  function item(c: string): void {
    let s = C[m];
    const n = cnt + held.length + 1;
    if (s && s.k === mk) {
      shut(m + 1); // next item of the same list
      closeTo(s.d - 1);
    } else if (m < maxDepth) {
      shut(m);
      open(mk as NodeKind, mk === 'ol' ? { start: held.slice(0, -1) } : undefined);
      C.push((s = { k: mk, n, d: 0 }));
    } else return fail(c);
    open('li');
    s.d = fresh = E.length;
    s.n = n;
    m++;
    task = 1;
    col = n - 1;
    mode = 0 /* LINE */;
    step(c);
  }

  function inl(c: string): void {
    if (pk) {
      if (!pend(c)) inl(c);
      return;
    }
    if (c === '\n') {
      if (leaf === 'h') shut(C.length);
      else if (leaf === 'table') closeTo(tr - 1);
      return next(); // a paragraph stays open: the next line may continue it
    }
    if (leaf === 'table') {
      if (c === '|') return closeTo(tr);
      if (E.length === tr) inline('td');
    }
    if (sk && sp(c)) return;
    sk = 0;
    if (top() === '`') {
      if (c === '`') {
        pk = c;
        run = 1;
      } else emit(c);
    } else if ('\\*_~`'.includes(c) || (c === '!' && lvl < 2)) {
      pk = c;
      run = 1;
    } else if (c === '[' && !lvl) hold(c);
    else if (!lvl && !noAuto && (c === '<' || (/h/i.test(c) && !alnum(prev)))) {
      pk = c === '<' ? c : 'h';
      raw = c;
      ph = 0;
    } else emit(c);
  }

  function hold(s: string): void {
    pk = '[';
    raw = s;
    img = s.length > 1;
    ph = pd = esc = 0;
    hd = 1;
    url = tq = '';
  }

  /** The pending construct looks at `c`; false when `c` still has to be read as inline text. */
  function pend(c: string): boolean {
    const k = pk;
    if (k === '\\') {
      pk = '';
      if (/[!-/:-@[-`{-~]/.test(c)) return emit(c), true;
      if (c !== '\n') emit(k); // before a newline it is a hard break: every newline is one here
      return false;
    }
    if (k === '!') {
      pk = '';
      if (c === '[') return hold('!['), true;
      emit(k);
      return false;
    }
    if (k === '<') {
      if (c === '>' && /^<(https?:|mailto:)/i.test(raw) && room(1)) {
        pk = '';
        autolink(raw.slice(1));
        return true;
      }
      if (!/[\s<>|]/.test(c) && raw.length < CAP) return (raw += c), true;
      return miss();
    }
    if (k === 'h') {
      if (!ph) {
        const s = (raw + c).toLowerCase();
        if ('https://http://'.includes(s)) {
          raw += c;
          ph = +s.endsWith('//');
          return true;
        }
      } else if (!/[\s<|]/.test(c) && raw.length < CAP) return (raw += c), true;
      pk = '';
      if (!ph || raw.length >= CAP || !room(1)) return emit(raw), false;
      // Trailing punctuation is not part of a bare URL, nor a `)` it did not open.
      let i = raw.length;
      let b = raw.split('(').length - raw.split(')').length;
      for (let x; (x = raw[i - 1]) && ('.,:;!?*_~\'"'.includes(x) || (x === ')' && b++ < 0)); ) i--;
      autolink(raw.slice(0, i));
      feed(raw.slice(i));
      return false;
    }
    if (k === '[') return link(c);
    // A delimiter run: longer than 3 it is plain text and streams at once.
    if (c === k) {
      if (++run > 3) emit(run > 4 ? c : c.repeat(4));
      return true;
    }
    pk = '';
    if (run < 4) delim(k, run, c);
    return false;
  }

  function autolink(u: string): void {
    open('a', { href: u });
    emit(u);
    close();
  }

  /** A run of `n` delimiters `d` followed by `next`: close, open, or plain text. */
  function delim(d: string, n: number, next: string): void {
    const before = prev;
    prev = d;
    if (d === '`') {
      if (top() === d) {
        if (n === cf) return close();
      } else if (room(1)) {
        open('code', undefined, d);
        cf = n;
        return;
      }
      return emit(d.repeat(n));
    }
    // Flanking, simplified: opens before a non-space, closes after one; `_` never inside a word.
    const u = d === '_';
    const canOpen = !ws(next) && !(u && alnum(before));
    if (!ws(before) && !(u && alnum(next))) {
      for (let t; n && (t = top()) && t[0] === d && t.length <= n; close()) n -= t.length;
    }
    if (n && canOpen && (d === '~' ? n === 2 : true) && room(n > 2 ? 2 : 1)) {
      if (n & 1) open('em', undefined, d);
      if (n > 1) open(d === '~' ? 's' : 'strong', undefined, d + d);
      n = 0;
    }
    if (n) emit(d.repeat(n));
  }

  function link(c: string): boolean {
    if (raw.length > CAP || c === '\n' || (c === '|' && leaf === 'table' && !esc)) return miss();
    if (esc) {
      esc = 0;
      if (ph === 2) url += c;
    } else if (c === '\\' && ph !== 1) esc = 1;
    else if (!ph) {
      if (c === '[') {
        const b = raw.endsWith('!');
        if (img || !b) {
          // A new `[` ends this one as text (CommonMark: the innermost bracket makes the link).
          if (b) raw = raw.slice(0, -1);
          miss();
          if (b) inl('!');
          return false;
        }
        hd++; // an image inside a link's text
      } else if (c === ']' && !--hd) {
        ti = raw.length;
        ph = 1;
      }
    } else if (ph === 1) {
      if (c !== '(') {
        if (c === ':') noAuto = 1; // `[r]: https://…` is a reference definition: stays text (A5)
        return miss();
      }
      ph = 2;
    } else if (ph === 2) {
      if (c === ')' && !pd--) return done();
      if (c === '(') pd++;
      if (sp(c)) {
        if (url) ph = 3;
      } else url += c;
    } else if (ph !== 4) {
      // Between the destination and a title, or after the title: only spaces, a title, `)`.
      if (c === ')') return done();
      if (!ws(c)) {
        if (ph > 3 || !'"\'('.includes(c)) return miss();
        tq = c === '(' ? ')' : c;
        ph = 4;
      }
    } else if (c === tq) ph = 5;
    raw += c;
    return true;
  }

  /** Not a link after all: its text is read again as literal text. */
  function miss(): boolean {
    pk = '';
    lit(raw);
    return false;
  }

  /** `](url)` completed: emit the image, or the link with its text read again. */
  function done(): boolean {
    pk = '';
    const t = raw.slice(img ? 2 : 1, ti);
    if (!room(1)) lit(t);
    else if (img) {
      empty('img', { href: url, alt: t });
    } else {
      open('a', { href: url });
      const d = E.length;
      const l = lvl;
      lvl = 1;
      prev = '[';
      feed(t);
      while (pk) pend('\n');
      closeTo(d - 1);
      lvl = l;
    }
    prev = ')';
    return true;
  }

  return {
    write(chunk) {
      if (ended) return;
      for (let i = 0; i < chunk.length; i++) if (chunk[i] !== '\r') step(chunk[i] as string);
      flush();
    },
    end() {
      if (ended) return;
      ended = true;
      if (mode !== 0 /* LINE */) step('\n'); // resolve what the last line holds (at a line start: nothing)
      shut(0);
      flush();
    },
    steps: () => steps,
  };
}
