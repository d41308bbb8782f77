import {
  parser,
  parser_end,
  parser_write,
  BLOCKQUOTE,
  CHECKBOX,
  CHECKED,
  CODE_BLOCK,
  CODE_FENCE,
  CODE_INLINE,
  EQUATION_BLOCK,
  EQUATION_INLINE,
  HEADING_1,
  HEADING_2,
  HEADING_3,
  HEADING_4,
  HEADING_5,
  HEADING_6,
  HREF,
  IMAGE,
  ITALIC_AST,
  ITALIC_UND,
  LANG,
  LINE_BREAK,
  LINK,
  LIST_ITEM,
  LIST_ORDERED,
  LIST_UNORDERED,
  PARAGRAPH,
  RAW_URL,
  RULE,
  SRC,
  START,
  STRIKE,
  STRONG_AST,
  STRONG_UND,
  TABLE,
  TABLE_CELL,
  TABLE_ROW,
} from 'streaming-markdown';
import type { Attr, Renderer, Token } from 'streaming-markdown';
import {
  linkDestination,
  safeImageUrl,
  safeLang,
  safeLinkUrl,
  safeListStart,
} from '../core/markdown/sanitize';

/** User-facing texts of the markdown view (localisable by the embedder). */
export interface MarkdownStrings {
  /** Label of a code block's copy button. */
  copy: string;
  /** Shown on the copy button for about 1.5 s after a successful copy. */
  copied: string;
  /** Notice appended when an answer is cut at {@link MarkdownOptions.maxChars}. */
  truncated: string;
  /** Link text for a blocked image without alt text, followed by the image's host (`Image: cdn.test`). */
  image: string;
}

/** Options of {@link createMarkdownRenderer}. */
export interface MarkdownOptions {
  /** Hosts whose markdown images may load (embed.md `data-image-hosts`); others render as links. */
  imageHosts: readonly string[];
  /** Absolute URL relative links and images resolve against (the page URL). */
  baseUrl?: string;
  /**
   * Characters rendered before the answer is cut with a notice (reliability A11).
   * @defaultValue 200_000
   */
  maxChars?: number;
  strings: MarkdownStrings;
}

/** An incremental markdown renderer bound to one element. */
export interface MarkdownRenderer {
  /** Render the next piece of the answer (any chunking gives the same DOM). Ignored after {@link end}. */
  write(text: string): void;
  /** The answer is complete: flush what the parser still holds. Further calls do nothing. */
  end(): void;
}

/** DOM nesting cap; smd itself keeps only 24 levels (TOKEN_ARRAY_CAP) and silently overflows past it. */
const MAX_DEPTH = 32;
/**
 * smd re-reads its `pending` buffer per character (quadratic on e.g. a 100k-char link URL or a run
 * of backticks): past this many buffered characters the answer is cut like at `maxChars`.
 */
const MAX_PENDING = 8192;
/** Input is fed in slices so the pending check above runs often and no single write runs long. */
const SLICE = 2048;
/** A text node grows by `appendData` up to this length, then a new one starts: appends stay linear. */
const TEXT_NODE_MAX = 8192;
/** How long the copy button shows `strings.copied`. */
const COPIED_MS = 1500;

interface Frame {
  /** 0 for the root. */
  token: Token | 0;
  /** Where this token's text and children go. */
  el: Element;
  /** Past {@link MAX_DEPTH}: no element of its own, `el` is the parent's. */
  virtual?: boolean;
}

const VOID_TAGS = ['BR', 'HR', 'INPUT', 'IMG'];

/** `end` moved back by one when it would split a surrogate pair (an emoji) in two. */
function pairSafe(s: string, end: number): number {
  const c = s.charCodeAt(end - 1);
  return end < s.length && end > 1 && c >= 0xd800 && c <= 0xdbff ? end - 1 : end;
}

/**
 * Render streamed, untrusted markdown into `root` with streaming-markdown, appending DOM as text
 * arrives and never re-parsing (style rules 11 and 12). Safe by construction: elements are built with
 * `createElement`/`createTextNode`; the only attributes ever set are a fixed list, and every URL
 * passes `core/markdown/sanitize.ts`. Raw HTML in the markdown stays text (smd has no HTML support).
 * Images load only from `imageHosts`; any other image becomes a link and makes no request
 * (reliability A4–A6).
 */
export function createMarkdownRenderer(root: HTMLElement, options: MarkdownOptions): MarkdownRenderer {
  const doc = root.ownerDocument;
  const { strings, baseUrl, imageHosts } = options;
  const maxChars = options.maxChars ?? 200_000;
  const stack: Frame[] = [{ token: 0, el: root }];
  let written = 0;
  let done = false;

  const make = (tag: string) => doc.createElement(tag);
  const top = (): Frame => stack[stack.length - 1] as Frame;
  const inLink = () => stack.some((f) => f.token === LINK || f.token === RAW_URL);

  /** Swap a placeholder for its final element, keeping the children already streamed into it. */
  function replace(frame: Frame, next: Element): void {
    const old = frame.el;
    while (old.firstChild) next.appendChild(old.firstChild);
    old.parentNode?.replaceChild(next, old);
    frame.el = next;
  }

  function anchor(href: string): HTMLAnchorElement {
    const a = make('a') as HTMLAnchorElement;
    a.setAttribute('href', href);
    a.setAttribute('target', '_blank');
    a.setAttribute('rel', 'noopener noreferrer');
    return a;
  }

  function copyButton(code: Element): HTMLButtonElement {
    const button = make('button') as HTMLButtonElement;
    button.setAttribute('type', 'button');
    button.setAttribute('part', 'copy');
    const label = (text: string) => {
      button.setAttribute('aria-label', text);
      button.textContent = text;
    };
    label(strings.copy);
    let timer: number | undefined;
    button.addEventListener('click', () => {
      // Every step may be missing (insecure context, old engine) or throw/reject (permission
      // denied): the host page must never see an error or an unhandled rejection (reliability.md).
      const view = doc.defaultView;
      try {
        const clipboard = view?.navigator?.clipboard;
        if (!view || typeof clipboard?.writeText !== 'function') return;
        Promise.resolve(clipboard.writeText(code.textContent ?? ''))
          .then(() => {
            label(strings.copied);
            view.clearTimeout(timer);
            timer = view.setTimeout(() => label(strings.copy), COPIED_MS);
          })
          .catch(() => {});
      } catch {
        // writeText threw synchronously: nothing was copied, nothing to report.
      }
    });
    return button;
  }

  /** The element for a new token, appended under `parent`; returns where its content goes. */
  function open(token: Token, parent: Element): Element {
    let el: Element;
    switch (token) {
      case PARAGRAPH: el = make('p'); break;
      case HEADING_1: case HEADING_2: case HEADING_3:
      case HEADING_4: case HEADING_5: case HEADING_6:
        el = make(`h${token - HEADING_1 + 1}`); break;
      case BLOCKQUOTE: el = make('blockquote'); break;
      case ITALIC_AST: case ITALIC_UND: el = make('em'); break;
      case STRONG_AST: case STRONG_UND: el = make('strong'); break;
      case STRIKE: el = make('s'); break;
      case CODE_INLINE: case EQUATION_INLINE: case EQUATION_BLOCK: el = make('code'); break;
      case LIST_UNORDERED: el = make('ul'); break;
      case LIST_ORDERED: el = make('ol'); break;
      case LIST_ITEM: el = make('li'); break;
      case LINE_BREAK: el = make('br'); break;
      case RULE: el = make('hr'); break;
      case CHECKBOX:
        el = make('input');
        el.setAttribute('type', 'checkbox');
        el.setAttribute('disabled', '');
        break;
      case CODE_BLOCK: case CODE_FENCE: {
        const pre = parent.appendChild(make('pre'));
        el = pre.appendChild(make('code'));
        pre.appendChild(copyButton(el));
        return el;
      }
      case TABLE: el = make('table'); break;
      case TABLE_ROW: {
        // First row is the header (smd swallows the |---| line); later rows share one tbody.
        if (parent.tagName === 'TABLE') {
          const last = parent.lastElementChild;
          parent = !last ? parent.appendChild(make('thead'))
            : last.tagName === 'THEAD' ? parent.appendChild(make('tbody'))
            : last;
        }
        el = make('tr');
        break;
      }
      case TABLE_CELL: el = make(parent.parentElement?.tagName === 'THEAD' ? 'th' : 'td'); break;
      // Links and images start as inert placeholders: smd sends the URL (set_attr) only after the
      // text, so the real element is chosen when it arrives and an image never gets an early src.
      default: el = make('span');
    }
    return parent.appendChild(el);
  }

  function setLink(frame: Frame, raw: string): void {
    const href = safeLinkUrl(linkDestination(raw), baseUrl);
    if (href) replace(frame, anchor(href));
  }

  function setImage(frame: Frame, raw: string): void {
    const dest = linkDestination(raw);
    const alt = frame.el.textContent ?? '';
    const src = safeImageUrl(dest, imageHosts, baseUrl);
    if (src) {
      const img = make('img');
      img.setAttribute('alt', alt);
      img.setAttribute('referrerpolicy', 'no-referrer');
      img.setAttribute('loading', 'lazy');
      img.setAttribute('decoding', 'async');
      img.setAttribute('src', src); // last: the request starts here, with the policy already set
      replace(frame, img);
      return;
    }
    // Not allow-listed: zero requests. Offer a link (when the URL is a safe link) naming the host.
    const href = safeLinkUrl(dest, baseUrl);
    const host = href ? new URL(href).host : '';
    const next = href && !inLink() ? anchor(href) : make('span');
    next.textContent = !host ? alt || strings.image : alt ? `${alt} (${host})` : `${strings.image} ${host}`;
    frame.el.textContent = '';
    replace(frame, next);
  }

  const renderer: Renderer<null> = {
    data: null,
    add_token(_, token) {
      const parent = top().el;
      const voidish = token === LINE_BREAK || token === RULE || token === CHECKBOX;
      if (stack.length > MAX_DEPTH && !voidish) stack.push({ token, el: parent, virtual: true });
      else stack.push({ token, el: open(token, parent) });
    },
    end_token() {
      if (stack.length > 1) stack.pop();
    },
    add_text(_, text) {
      const el = top().el;
      if (VOID_TAGS.includes(el.tagName)) return;
      const last = el.lastChild;
      if (last && last.nodeType === 3 && (last as Text).length < TEXT_NODE_MAX) {
        (last as Text).appendData(text);
      } else {
        el.appendChild(doc.createTextNode(text));
      }
    },
    set_attr(_, type: Attr, value) {
      const frame = top();
      if (frame.virtual) return; // its element is the parent's: never decorate that
      if (type === HREF && (frame.token === LINK || frame.token === RAW_URL)) setLink(frame, value);
      else if (type === SRC && frame.token === IMAGE) setImage(frame, value);
      else if (type === LANG && frame.token === CODE_FENCE) {
        const lang = safeLang(value);
        if (lang) frame.el.setAttribute('data-lang', lang);
      } else if (type === CHECKED && frame.token === CHECKBOX) frame.el.setAttribute('checked', '');
      else if (type === START && frame.token === LIST_ORDERED) {
        const start = safeListStart(value);
        if (start !== undefined) frame.el.setAttribute('start', String(start));
      }
    },
  };
  const p = parser(renderer);

  function truncate(flush: boolean): void {
    done = true;
    if (flush) parser_end(p);
    const notice = make('p');
    notice.setAttribute('data-truncated', '');
    notice.textContent = strings.truncated;
    root.appendChild(notice);
  }

  return {
    write(text) {
      if (done) return;
      const cut = text.length > maxChars - written;
      const chunk = cut ? text.slice(0, pairSafe(text, maxChars - written)) : text;
      written += chunk.length;
      for (let i = 0; i < chunk.length; ) {
        const next = pairSafe(chunk, i + SLICE);
        parser_write(p, chunk.slice(i, next));
        i = next;
        // A runaway buffer is cut without parser_end: flushing it is the quadratic work we avoid.
        if (p.pending.length > MAX_PENDING || p.indent_len > MAX_PENDING) return truncate(false);
      }
      if (cut) truncate(true);
    },
    end() {
      if (done) return;
      done = true;
      parser_end(p);
    },
  };
}
