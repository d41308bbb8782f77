/**
 * URL and attribute allow-lists for rendering untrusted assistant markdown (reliability.md, section A;
 * style rule 12). Pure: only the `URL` parser, which every runtime has, so it runs under node tests.
 *
 * Every function returns either a value that is safe to put in the DOM as-is, or `undefined`.
 * Callers set the returned (normalised) string, never the raw input, so what the browser sees is
 * exactly what was checked.
 */

/**
 * Parse like a browser resolving an `href`, then allow-list: the WHATWG URL parser trims C0 controls
 * and spaces, drops tabs and newlines anywhere (so `java\nscript:` parses as `javascript:`) and
 * lowercases the scheme and an http(s) host. A string that does not parse, or is relative with no
 * base, gives `undefined`. Links allow http(s) and mailto; images (`hosts` given) only http(s) from
 * one of `hosts`.
 */
export function safeUrl(raw: string, base?: string, hosts?: readonly string[]): string | undefined {
  try {
    const url = new URL(raw, base);
    if (
      hosts
        ? /^https?:$/.test(url.protocol) && hosts.some((h) => h.trim().toLowerCase() === url.host)
        : /^(https?|mailto):$/.test(url.protocol)
    ) return url.href;
  } catch {
    // Not a URL: nothing to link or load.
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
export const safeLinkUrl = (raw: string, baseUrl?: string): string | undefined => safeUrl(raw, baseUrl);

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
export const safeImageUrl = (raw: string, allowedHosts: readonly string[], baseUrl?: string): string | undefined =>
  safeUrl(raw, baseUrl, allowedHosts);

/**
 * A code fence's info string reduced to a safe `data-lang` value: the first word, lowercased,
 * only `[a-z0-9_+-]`, at most 32 characters; `undefined` when nothing is left.
 */
export const safeLang = (raw: string): string | undefined =>
  (raw.trim().split(/\s/)[0] as string).toLowerCase().replace(/[^a-z0-9_+-]/g, '').slice(0, 32) || undefined;

/** An ordered list's `start` number, or `undefined` unless it is a plain non-negative integer (≤ 9 digits). */
export const safeListStart = (raw = ''): number | undefined => (/^\d{1,9}$/.test(raw) ? +raw : undefined);
