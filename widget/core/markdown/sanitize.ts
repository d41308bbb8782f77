/**
 * URL and attribute allow-lists for rendering untrusted assistant markdown (reliability.md, section A;
 * style rule 12). Pure: only the `URL` parser, which every runtime has, so it runs under node tests.
 *
 * Every function returns either a value that is safe to put in the DOM as-is, or `undefined`.
 * Callers set the returned (normalised) string, never the raw input, so what the browser sees is
 * exactly what was checked.
 */

const LINK_PROTOCOLS = ['http:', 'https:', 'mailto:'];
const IMAGE_PROTOCOLS = ['http:', 'https:'];

/**
 * Parse like a browser resolving an `href`: the WHATWG URL parser trims leading/trailing C0 controls
 * and spaces and drops tabs and newlines anywhere (so `java\nscript:` parses as `javascript:`), and
 * lowercases the scheme. A string that does not parse, or is relative with no base, gives `undefined`.
 */
function parse(raw: string, baseUrl: string | undefined): URL | undefined {
  try {
    return baseUrl === undefined ? new URL(raw) : new URL(raw, baseUrl);
  } catch {
    return undefined;
  }
}

/**
 * The URL a markdown link may point to, or `undefined` when it must not be clickable.
 *
 * Allowed: `http:`, `https:` and `mailto:` (scheme case-insensitive). Relative URLs are resolved
 * against `baseUrl` (the page URL) and then checked; without a base they are refused.
 * Protocol-relative `//host/…` takes the page's scheme: with an https page it is an ordinary https
 * link to that host, which we accept, because a link to any https host is allowed anyway (it opens in
 * a new tab with `noopener noreferrer`, embed reliability A8). Everything else (`javascript:`,
 * `vbscript:`, `data:`, `file:`, `tel:`, `blob:`, unknown schemes) gives `undefined`.
 *
 * @param raw - the link destination as written in the markdown
 * @param baseUrl - absolute URL relative links resolve against; usually `location.href`
 * @returns the normalised absolute URL (`URL.href`), or `undefined`
 */
export function safeLinkUrl(raw: string, baseUrl?: string): string | undefined {
  const url = parse(raw, baseUrl);
  return url && LINK_PROTOCOLS.includes(url.protocol) ? url.href : undefined;
}

/**
 * The URL a markdown image may load from, or `undefined` when it must not load (embed.md
 * `data-image-hosts`: markdown images are the classic exfiltration channel of prompt-injected
 * chats, reliability A4–A6).
 *
 * Only `http:`/`https:` URLs whose host equals one of `allowedHosts` exactly, case-insensitively.
 * "Host" is `URL.host`: the hostname plus a non-default port. So `cdn.test` allows
 * `https://cdn.test/x.png` and `https://cdn.test:443/x.png` but not `https://cdn.test:8443/x.png`
 * (list `cdn.test:8443` for that), nor `img.cdn.test` (no subdomain wildcard), nor
 * `https://cdn.test@evil.test/` (whose host is `evil.test`).
 *
 * @param raw - the image source as written in the markdown
 * @param allowedHosts - hosts whose images may load; empty means no image ever loads
 * @param baseUrl - absolute URL relative sources resolve against
 * @returns the normalised absolute URL, or `undefined`
 */
export function safeImageUrl(
  raw: string,
  allowedHosts: readonly string[],
  baseUrl?: string,
): string | undefined {
  const url = parse(raw, baseUrl);
  if (!url || !IMAGE_PROTOCOLS.includes(url.protocol) || url.host === '') return undefined;
  const host = url.host.toLowerCase();
  return allowedHosts.some((h) => h.trim().toLowerCase() === host) ? url.href : undefined;
}

/**
 * The destination part of a markdown link target. The parser hands over everything between
 * `](` and the first `)`, title included (`x.png "title"`), and keeps `<…>` brackets.
 */
export function linkDestination(raw: string): string {
  const s = raw.trim();
  if (s.startsWith('<')) {
    const close = s.indexOf('>');
    if (close > 0) return s.slice(1, close);
  }
  const space = s.indexOf(' ');
  return space === -1 ? s : s.slice(0, space);
}

/**
 * A code fence's info string reduced to a safe `data-lang` value: the first word, lowercased,
 * only `[a-z0-9_+-]`, at most 32 characters; `undefined` when nothing is left.
 */
export function safeLang(raw: string): string | undefined {
  const word = raw.trim().split(/\s/, 1)[0] ?? '';
  const lang = word.toLowerCase().replace(/[^a-z0-9_+-]/g, '').slice(0, 32);
  return lang === '' ? undefined : lang;
}

/** An ordered list's `start` number, or `undefined` unless it is a plain non-negative integer (≤ 9 digits). */
export function safeListStart(raw: string): number | undefined {
  return /^\d{1,9}$/.test(raw) ? Number(raw) : undefined;
}
