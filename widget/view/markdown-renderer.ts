import { createMarkdownParser } from '../core/markdown/parser';
import { safeLang, safeListStart, safeUrl } from '../core/markdown/sanitize';
import { cut } from '../core/cut';

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

/** A text node grows by `appendData` up to this length, then a new one starts: appends stay linear. */
const TEXT_NODE_MAX = 8192;
/** How long the copy button shows `strings.copied`. */
const COPIED_MS = 1500;

/**
 * Render streamed, untrusted markdown into `root` with our incremental parser
 * (core/markdown/parser.ts), appending DOM as text arrives and never re-parsing (style rules 11
 * and 12). Safe by construction: elements are built with `createElement`/`createTextNode`; the only
 * attributes ever set are a fixed list, and every URL passes `core/markdown/sanitize.ts`. Raw HTML in
 * the markdown stays text (the parser has no HTML support). The parser caps nesting (16 block, 8
 * inline levels) and works in linear time on any input (reliability A11). Images load only from
 * `imageHosts`, and only once their whole URL is known; any other image becomes a link and makes no
 * request (reliability A4–A6).
 */
export function createMarkdownRenderer(root: HTMLElement, options: MarkdownOptions): MarkdownRenderer {
  const doc = root.ownerDocument;
  const win = doc.defaultView as Window;
  const { strings, baseUrl, imageHosts } = options;
  // Timers as they are now: a host that wraps `setTimeout` later cannot break the copy button (E4).
  const setTimer = win?.setTimeout.bind(win);
  const clearTimer = win?.clearTimeout.bind(win);
  /** The pending "Copied" reset of each copy button. */
  const resets = new WeakMap<Element, number>();
  /** Open elements: where text and children go, innermost last. */
  const stack: Element[] = [root];
  /** Characters that may still be rendered; -1 once the answer ended. */
  let left = options.maxChars ?? 200_000;

  /** A new element with the given attributes, in this order; `undefined` and `null` ones are left out. */
  const make = (tag: string, attrs: Record<string, string | number | null | undefined> = {}) => {
    const el = doc.createElement(tag);
    for (const k in attrs) if (attrs[k] != null) el.setAttribute(k, attrs[k] as string);
    return el;
  };
  const label = (el: Element, text: string) => {
    el.setAttribute('aria-label', (el.textContent = text));
    return el;
  };
  /** A safe link opening in a new tab; a span when the URL is refused or we are inside a link already. */
  const link = (href: string | undefined) =>
    href && !stack.some((el) => el.tagName === 'A')
      ? make('a', { href, target: '_blank', rel: 'noopener noreferrer' })
      : make('span');

  // One delegated listener for every copy button. Each step may be missing (insecure context, old
  // engine) or throw/reject (permission denied): the host page must never see an error (reliability.md).
  root.addEventListener('click', async (event) => {
    try {
      const button = (event.target as Element).closest('[part=copy]');
      if (!button) return;
      await win.navigator.clipboard.writeText((button.previousSibling as Node).textContent as string);
      label(button, strings.copied);
      clearTimer(resets.get(button));
      resets.set(button, setTimer(() => label(button, strings.copy), COPIED_MS));
    } catch {
      // Nothing was copied, nothing to report.
    }
  });

  const parser = createMarkdownParser({
    open(kind, a = {}) {
      let parent = stack.at(-1) as Element;
      let el: Element;
      if (kind === 'pre') {
        el = make('code', { 'data-lang': safeLang(a.lang as string) });
        parent
          .appendChild(make('pre'))
          .append(el, label(make('button', { type: 'button', part: 'copy' }), strings.copy));
        return void stack.push(el);
      }
      if (kind === 'a' || kind === 'img') {
        // An image is created only now that the parser knows the whole URL: an `<img>` when the host
        // is allow-listed, else a link (or span) naming the host, which makes no request.
        const dest = a.href as string; // always given for a link or an image
        const href = safeUrl(dest, baseUrl);
        const src = kind > 'a' && safeUrl(dest, baseUrl, imageHosts);
        const host = href && new URL(href).host;
        const alt = a.alt as string; // always given for an image
        // `src` last: the request starts there, with the policy already set.
        el = src
          ? make('img', { alt, referrerpolicy: 'no-referrer', loading: 'lazy', decoding: 'async', src })
          : link(href);
        if (kind > 'a' && !src) el.textContent = !host ? alt || strings.image : alt ? `${alt} (${host})` : `${strings.image} ${host}`;
      } else {
        if (kind === 'tr') {
          // The first row is the header; later rows share one tbody.
          const last = parent.lastElementChild;
          parent = !last || last.tagName === 'THEAD' ? parent.appendChild(make(last ? 'tbody' : 'thead')) : last;
        }
        const start = safeListStart(a.start);
        el = make(
          kind === 'td' && parent.parentElement?.tagName === 'THEAD' ? 'th' : kind,
          kind === 'input'
            ? { type: 'checkbox', disabled: '', checked: a.checked ? '' : null }
            : { start: start !== 1 ? start : null },
        );
      }
      stack.push(parent.appendChild(el));
    },
    close() {
      if (stack[1]) stack.pop();
    },
    text(text) {
      const el = stack.at(-1) as Element;
      const last = el.lastChild as Text | null;
      // Of the nodes made here only Text has a `length`: after an element a new text node starts.
      if (last && last.length < TEXT_NODE_MAX) last.appendData(text);
      else el.append(text);
    },
  });
  const end = () => {
    parser.end();
    left = -1;
  };

  return {
    write(text) {
      if (left < 0) return;
      if (text.length <= left) {
        left -= text.length;
        return parser.write(text);
      }
      parser.write(cut(text, left));
      end();
      root.appendChild(make('p', { 'data-truncated': '' })).textContent = strings.truncated;
    },
    end,
  };
}
