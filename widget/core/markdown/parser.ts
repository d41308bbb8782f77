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
  /** `a`, `img`: the destination (without title; escapes resolved; the inside of `<…>` brackets). */
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
//   1 MARK   a list, heading or task marker (`-`, `12.`, `##`, `[x]`) waiting for white space
//   4 FENCE  opening fence run                          5 INFO   fence info string
//   6 RULE   a line that may be a thematic break        7 TROW   a table row that may be a delimiter row
//   9 CLOSE  a code line that may be the closing fence 10 CODE   fenced code text
// (2, 3 and 8 were the digit, `#` and `[x]` lookaheads, now all MARK.)
//  11 INL    inline text of a paragraph, heading or table cell
// Leaf blocks (`leaf`): 0 none, 1 paragraph, 2 heading, 3 fenced code, 4 table.

const ws = (c: string) => /\s/.test(c);
const sp = (c: string) => /[ \t]/.test(c);
const alnum = (c: string) => /[\p{L}\p{N}]/u.test(c);
/** A lookahead holds this much already: it stops holding. */
const full = (s: string) => s.length >= CAP;

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
  /** Open nodes, innermost last: a kind, or for inline styles the delimiters that opened them (a code span's whole backtick run). */
  const E: string[] = [];
  const C: Container[] = [];
  let out = ''; // text not yet given to the sink
  let steps = 0;
  let mode = 0 /* LINE */;
  let col = 0; // column on this line
  let m = 0; // containers matched on this line
  let leaf = 0; // open leaf block (see above)
  let ib: number; // E.length where the leaf's inline content starts
  let fresh = -1; // E.length just after a list item opened, until anything opens inside it
  let noRule: number; // this line was already tried as a thematic break
  let task: number; // a list marker just opened an item
  let held: string; // characters held by a line-start lookahead
  let cnt: number; // column where the lookahead began; fence run length in CLOSE
  let ch: string; // marker character of RULE/FENCE
  let fc: string; // open fence: character, length, indentation
  let fl: number;
  let fi: number;
  let nl: string; // '\n' when a code line ended: written once the next line is known
  let tr: number; // E.length inside the open table row
  let sk: number; // skip spaces before a heading's text
  // Inline state.
  let prev: string; // last inline character, for delimiter flanking
  let pk = ''; // pending construct: '\\', '!', '*', '_', '~', '`', '[', '<' or 'h' (bare URL)
  let run: number; // delimiter run length
  let lvl = 0; // 0: everything; 1: inside link text (images only); 2: literal replay (no holds)
  let noAuto: number; // after `]:` on this line: no autolinks
  let raw: string; // held inline text, markers included
  let img: string | undefined; // the held `[` is an image's (then its second character)
  let ph: number; // link phase: 0 text, 1 after `]`, 2 destination, 3 before title, 4 title, 5 after it; bare URL: 1 past `//`
  let hd: number; // bracket depth in link text, from 0
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
    prev = s.at(-1) as string;
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
  const inline = (k?: NodeKind | false) => {
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
    closeTo(k && (C[k - 1] as Container).d);
    C.length = k;
    leaf = 0;
  };
  const top = () => E.at(-1);
  const room = (k: number) => E.length - ib + k <= maxInline;
  /**
   * Read `s` at inline level `l`. Held text that is read again goes at level 2, with no holds, so it
   * is never held again (keeps the work linear).
   */
  const feed = (s: string, l = lvl) => {
    const o = lvl;
    lvl = l;
    // By code unit (a surrogate pair may arrive in two chunks), without an array of the chunk's characters.
    for (let i = 0; i < s.length; i++) step(s[i]!);
    lvl = o;
  };
  const next = () => {
    mode = col = m = noRule = task = noAuto = sk = 0 /* LINE */;
  };
  /** Start a paragraph, or continue the open one (a soft break; lazily, as CommonMark). */
  const para = () => {
    if (leaf === 1) {
      empty('br');
      mode = 11 /* INL */;
      prev = '\n';
    } else {
      shut(m);
      inline(fresh !== E.length && 'p');
      leaf = 1;
    }
    fresh = -1;
  };
  /** A line-start lookahead turned out to be paragraph text. */
  const fail = (c: string) => {
    para();
    again(c, 11 /* INL */);
  };
  /** Start of a fenced code line: the pending newline and the indentation past the fence's. */
  const code = () => {
    out += nl + ' '.repeat(col > fi ? col - fi : 0);
    nl = '';
    mode = 10 /* CODE */;
  };
  /** `held` and `c` read again from LINE (after a failed rule) or as the inline text of a row. */
  const again = (c: string, k: number) => {
    mode = k;
    feed(held);
    step(c);
  };

  let step = (c: string): void => {
    steps++;
    switch (mode) {
      case 0: { // LINE
        if (sp(c)) return void (col += c === ' ' ? 1 : 4 - (col % 4));
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
        if (leaf === 3 && m === C.length) {
          if (c === '\n') {
            out += nl;
            nl = '\n';
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
        held = ch = c;
        cnt = col;
        if (c === '>' && m < maxDepth) {
          shut(m);
          open('blockquote');
          C.push({ k: c, d: E.length } as Container);
          m++;
          col++;
        } else if (c === '|') {
          if (leaf !== 4 || m < C.length) {
            shut(m);
            open('table');
            leaf = 4;
          }
          held = '';
          mode = 7 /* TROW */;
        } else {
          mode = !noRule && /[-*_]/.test(c) ? 6 /* RULE */
            : /[-*+#\d]/.test(c) || (c === '[' && task) ? 1 /* MARK */
            : /[`~]/.test(c) ? 4 /* FENCE */
            : 0;
          if (!mode) {
            para();
            inl(c);
          }
        }
        return;
      }
      case 1: { // MARK
        // `-`, `12.`, `##` or (after a list marker) `[x]` so far: one more marker character, or the
        // white space that decides. (`[` sorts after capitals, `#` before `$`, bullets before digits.)
        if (/^(\d{1,9}[.)]?|#{1,6}|\[([ xX]]?)?)$/.test(held + c)) return void (held += c);
        if (!ws(c) || /[\d[ xX]$/.test(held)) return fail(c);
        if (held > 'Z') {
          para();
          empty('input', { checked: held[1] !== ' ' });
        } else if (held < '$') {
          shut(m);
          inline(('h' + held.length) as NodeKind);
          sk = 1;
          leaf = 2;
        } else {
          // A list item: the next of the same list, or the first of a new one.
          let s = C[m];
          const n = cnt + held.length + 1;
          const mk = held < '0' ? 'ul' : 'ol';
          if (s && s.k === mk) {
            shut(m + 1);
            closeTo(s.d - 1);
          } else if (m < maxDepth) {
            shut(m);
            open(mk, mk === 'ol' ? { start: held.slice(0, -1) } : undefined);
            C.push((s = { k: mk } as Container)); // `n` and `d` are set just below
          } else return fail(c);
          open('li');
          s.d = fresh = E.length;
          s.n = n;
          m++;
          task = 1;
          col = n - 1;
          mode = 0 /* LINE */;
        }
        return step(c);
      }
      case 4: // FENCE
        if (c === ch && !full(held)) held += c;
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
        leaf = 3;
        nl = '';
        return next();
      case 6: // RULE
        if ((c === ch || sp(c)) && !full(held)) held += c;
        else if (c === '\n' && held.split(ch).length > 3) {
          shut(m);
          empty('hr');
          next();
        } else {
          // Not a break: read the line again as list markers or text.
          noRule = 1;
          again(c, 0 /* LINE */);
        }
        return;
      case 7: // TROW
        if (/[-:| \t]/.test(c) && !full(held)) held += c;
        else if (c === '\n' && held.includes('-')) next(); // a |---| delimiter row: dropped
        else {
          open('tr');
          tr = E.length;
          again(c, 11 /* INL */);
        }
        return;
      case 9: // CLOSE
        if (!full(held) && (c === fc && cnt === held.length ? ++cnt : sp(c))) held += c;
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
          nl = '\n';
          next();
        }
        return;
      default:
        return inl(c);
    }
  };

  const inl = (c: string): void => {
    if (pk) {
      if (!pend(c)) inl(c);
      return;
    }
    if (c === '\n') {
      if (leaf === 2) shut(C.length);
      else if (leaf === 4) closeTo(tr - 1);
      return next(); // a paragraph stays open: the next line may continue it
    }
    if (leaf === 4) {
      if (c === '|') return closeTo(tr);
      if (E.length === tr) inline('td');
    }
    if (sk && sp(c)) return;
    sk = 0;
    const inCode = top()?.[0] === '`';
    if (inCode ? c === '`' : '\\*_~`'.includes(c) || (c === '!' && lvl < 2)) {
      pk = c;
      run = 1;
    } else if (!inCode && !lvl && (c === '[' || (!noAuto && (c === '<' || (/h/i.test(c) && !alnum(prev)))))) {
      hold(c);
    } else emit(c);
  };

  /** Start holding `s`, the opening of a link (`[`, `![`), an autolink (`<`) or a bare URL (`h`). */
  const hold = (s: string) => {
    pk = s.slice(-1).toLowerCase();
    raw = s;
    img = s[1];
    ph = pd = esc = hd = 0;
    url = '';
  };

  /** The pending construct looks at `c`; false when `c` still has to be read as inline text. */
  const pend = (c: string): boolean => {
    const k = pk;
    if (k === '[') return link(c);
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
    if (/[<h]/.test(k)) {
      if (k === 'h' && !ph) {
        const s = (raw + c).toLowerCase();
        if ('https://http://'.includes(s)) {
          raw += c;
          ph = +/\/\/$/.test(s);
          return true;
        }
      } else if (!/[\s<|]/.test(c) && (k === 'h' || c !== '>') && !full(raw)) return (raw += c), true;
      pk = '';
      if (k === '<') return c === '>' && /^<(https?:|mailto:)/i.test(raw) && room(1) ? (autolink(raw.slice(1)), true) : miss();
      if (!ph || full(raw) || !room(1)) return emit(raw), false;
      // Trailing punctuation is not part of a bare URL, nor a `)` it did not open.
      let i = raw.length;
      let b = raw.split('(').length - raw.split(')').length;
      for (let x; (x = raw[i - 1]) && ('.,:;!?*_~\'"'.includes(x) || (x === ')' && b++ < 0)); ) i--;
      autolink(raw.slice(0, i));
      feed(raw.slice(i));
      return false;
    }
    // A delimiter run: longer than 3 it is plain text and streams at once.
    if (c === k) {
      if (++run > 3) emit(run > 4 ? c : c.repeat(4));
      return true;
    }
    pk = '';
    if (run < 4) delim(k, run, c);
    return false;
  };

  const autolink = (u: string) => {
    open('a', { href: u });
    emit(u);
    close();
  };

  /** A run of `n` delimiters `d` followed by `next`: close, open, or plain text. */
  const delim = (d: string, n: number, next: string): void => {
    const before = prev;
    prev = d;
    const s = d.repeat(n);
    // A code span's mark is its backtick run: only the same run closes it.
    if (d === '`') return top() === s ? close() : top()?.[0] !== d && room(1) ? open('code', {}, s) : emit(s);
    // Flanking, simplified: opens before a non-space, closes after one; `_` never inside a word.
    const side = (x: string, y: string) => !ws(x) && !(d === '_' && alnum(y));
    const canOpen = side(next, before);
    if (side(before, next)) {
      for (let t; n && (t = top()) && t[0] === d && t.length <= n; close()) n -= t.length;
    }
    if (n && canOpen && (d !== '~' || n === 2) && room(n > 2 ? 2 : 1)) {
      if (n & 1) open('em', {}, d);
      if (n > 1) open(d === '~' ? 's' : 'strong', {}, d + d);
      n = 0;
    }
    if (n) emit(d.repeat(n));
  };

  const link = (c: string): boolean => {
    if (raw.length > CAP || c === '\n' || (c === '|' && leaf === 4 && !esc)) return miss();
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
      } else if (c === ']' && !hd--) {
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
  };

  /** Not a link after all: its text is read again as literal text. */
  const miss = (): boolean => {
    pk = '';
    feed(raw, 2);
    return false;
  };

  /** `](url)` completed: emit the image, or the link with its text read again. */
  const done = (): boolean => {
    pk = '';
    const t = raw.slice(img ? 2 : 1, ti);
    const href = url.replace(/^<([^>]*)>.*/, '$1');
    if (!room(1)) feed(t, 2);
    else if (img) {
      empty('img', { href, alt: t });
    } else {
      const d = E.length;
      open('a', { href });
      prev = '[';
      feed(t, 1);
      while (pk) pend('\n');
      closeTo(d);
    }
    prev = ')';
    return true;
  };

  return {
    write(chunk) {
      feed(chunk.replace(/\r/g, ''));
      flush();
    },
    end() {
      if (mode) step('\n'); // resolve what the last line holds (at a line start: nothing)
      shut(0);
      flush();
      step = () => {}; // later calls do nothing
    },
    steps: () => steps,
  };
}
