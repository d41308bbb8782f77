import { createMarkdownParser } from '../core/markdown/parser';
import type { MarkdownSink, NodeAttrs } from '../core/markdown/parser';
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

/** A text node grows by `appendData` up to this length, then a new one starts: appends stay linear. */
const TEXT_NODE_MAX = 8192;
/** How long the copy button shows `strings.copied`. */
const COPIED_MS = 1500;

/** `end` moved back by one when it would split a surrogate pair (an emoji) in two. */
function pairSafe(s: string, end: number): number {
  const c = s.charCodeAt(end - 1);
  return end < s.length && end > 1 && c >= 0xd800 && c <= 0xdbff ? end - 1 : end;
}

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
  const { strings, baseUrl, imageHosts } = options;
  const maxChars = options.maxChars ?? 200_000;
  /** Open elements: where text and children go, innermost last. */
  const stack: Element[] = [root];
  let written = 0;
  let done = false;

  const make = (tag: string) => doc.createElement(tag);
  const inLink = () => stack.some((el) => el.tagName === 'A');

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

  /**
   * An image, created only now that the parser knows its whole URL: an `<img>` when the host is
   * allow-listed, else a link (or span) naming the host, which makes no request.
   */
  function image(attrs: NodeAttrs): Element {
    const dest = linkDestination(attrs.href ?? '');
    const alt = attrs.alt ?? '';
    const src = safeImageUrl(dest, imageHosts, baseUrl);
    if (src) {
      const img = make('img');
      img.setAttribute('alt', alt);
      img.setAttribute('referrerpolicy', 'no-referrer');
      img.setAttribute('loading', 'lazy');
      img.setAttribute('decoding', 'async');
      img.setAttribute('src', src); // last: the request starts here, with the policy already set
      return img;
    }
    // Not allow-listed: zero requests. Offer a link (when the URL is a safe link) naming the host.
    const href = safeLinkUrl(dest, baseUrl);
    const host = href ? new URL(href).host : '';
    const next = href && !inLink() ? anchor(href) : make('span');
    next.textContent = !host ? alt || strings.image : alt ? `${alt} (${host})` : `${strings.image} ${host}`;
    return next;
  }

  const sink: MarkdownSink = {
    open(kind, attrs = {}) {
      let parent = stack[stack.length - 1] as Element;
      let el: Element;
      switch (kind) {
        case 'pre': {
          const pre = parent.appendChild(make('pre'));
          el = pre.appendChild(make('code'));
          const lang = safeLang(attrs.lang ?? '');
          if (lang) el.setAttribute('data-lang', lang);
          pre.appendChild(copyButton(el));
          stack.push(el);
          return;
        }
        case 'a': {
          const href = safeLinkUrl(linkDestination(attrs.href ?? ''), baseUrl);
          el = href && !inLink() ? anchor(href) : make('span');
          break;
        }
        case 'img':
          el = image(attrs);
          break;
        case 'input':
          el = make('input');
          el.setAttribute('type', 'checkbox');
          el.setAttribute('disabled', '');
          if (attrs.checked) el.setAttribute('checked', '');
          break;
        case 'ol': {
          el = make('ol');
          const start = safeListStart(attrs.start ?? '');
          if (start !== undefined && start !== 1) el.setAttribute('start', String(start));
          break;
        }
        case 'tr': {
          // The first row is the header; later rows share one tbody.
          const last = parent.lastElementChild;
          parent = !last ? parent.appendChild(make('thead'))
            : last.tagName === 'THEAD' ? parent.appendChild(make('tbody'))
            : last;
          el = make('tr');
          break;
        }
        case 'td':
          el = make(parent.parentElement?.tagName === 'THEAD' ? 'th' : 'td');
          break;
        default:
          el = make(kind);
      }
      stack.push(parent.appendChild(el));
    },
    close() {
      if (stack.length > 1) stack.pop();
    },
    text(text) {
      const el = stack[stack.length - 1] as Element;
      const last = el.lastChild;
      if (last && last.nodeType === 3 && (last as Text).length < TEXT_NODE_MAX) {
        (last as Text).appendData(text);
      } else {
        el.appendChild(doc.createTextNode(text));
      }
    },
  };
  const parser = createMarkdownParser(sink);

  return {
    write(text) {
      if (done) return;
      const cut = text.length > maxChars - written;
      const chunk = cut ? text.slice(0, pairSafe(text, maxChars - written)) : text;
      written += chunk.length;
      parser.write(chunk);
      if (!cut) return;
      done = true;
      parser.end();
      const notice = make('p');
      notice.setAttribute('data-truncated', '');
      notice.textContent = strings.truncated;
      root.appendChild(notice);
    },
    end() {
      if (done) return;
      done = true;
      parser.end();
    },
  };
}
