import { describe, expect, it } from 'vitest';
import { safeImageUrl, safeLang, safeLinkUrl, safeListStart, safeUrl } from '../../widget/core/markdown/sanitize';

const PAGE = 'https://shop.test/docs/page?x=1';

describe('safeLinkUrl', () => {
  // [input, expected with baseUrl = PAGE]
  const cases: [string, string | undefined][] = [
    ['https://ok.test', 'https://ok.test/'],
    ['http://ok.test/a?b=c#d', 'http://ok.test/a?b=c#d'],
    ['HTTPS://OK.TEST/Path', 'https://ok.test/Path'],
    ['  https://ok.test/  ', 'https://ok.test/'],
    ['mailto:someone@ok.test', 'mailto:someone@ok.test'],
    ['MailTo:someone@ok.test', 'mailto:someone@ok.test'],
    // Protocol-relative takes the page's scheme: an ordinary https link (documented decision).
    ['//evil.test/x', 'https://evil.test/x'],
    // Relative paths resolve against the page.
    ['/help', 'https://shop.test/help'],
    ['other', 'https://shop.test/docs/other'],
    ['?q=1', 'https://shop.test/docs/page?q=1'],
    ['#top', 'https://shop.test/docs/page?x=1#top'],
    // Script schemes, whatever their spelling.
    ['javascript:alert(1)', undefined],
    ['JaVaScRiPt:alert(1)', undefined],
    ['java\tscript:alert(1)', undefined],
    ['java\nscript:alert(1)', undefined],
    ['java\rscript:alert(1)', undefined],
    ['  javascript:alert(1)', undefined],
    ['\u0001\u0010 javascript:alert(1)', undefined],
    ['\u0000javascript:alert(1)', undefined],
    ['javascript://%0aalert(1)', undefined],
    ['vbscript:msgbox(1)', undefined],
    ['VBScript:msgbox(1)', undefined],
    ['data:text/html,<script>alert(1)</script>', undefined],
    ['data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==', undefined],
    ['data:image/svg+xml,<svg onload=alert(1)>', undefined],
    ['file:///etc/passwd', undefined],
    ['tel:+15555555555', undefined],
    ['blob:https://shop.test/0b7c0c5e-3d1c-4a1b-9f2e-000000000000', undefined],
    ['ftp://ok.test/file', undefined],
    ['chrome://settings', undefined],
    ['unknown:thing', undefined],
  ];
  it.each(cases)('%j → %j', (raw, expected) => {
    expect(safeLinkUrl(raw, PAGE)).toBe(expected);
  });

  it('refuses relative and protocol-relative URLs when there is no base', () => {
    expect(safeLinkUrl('/help')).toBeUndefined();
    expect(safeLinkUrl('//evil.test/x')).toBeUndefined();
    expect(safeLinkUrl('https://ok.test')).toBe('https://ok.test/');
  });

  it('takes an http page scheme for protocol-relative URLs', () => {
    expect(safeLinkUrl('//evil.test', 'http://shop.test/')).toBe('http://evil.test/');
  });

  it('returns the normalised href, never the raw input', () => {
    // The browser would see exactly this string, which has no control characters left.
    expect(safeLinkUrl('ht\ttps://ok.test/a b', PAGE)).toBe('https://ok.test/a%20b');
  });

  it('handles a garbage base without throwing', () => {
    expect(safeLinkUrl('/x', 'not a url')).toBeUndefined();
    expect(safeLinkUrl('http://[::1', PAGE)).toBeUndefined();
  });
});

describe('safeImageUrl', () => {
  const hosts = ['cdn.allowed.test', 'Img.Example.TEST', 'ports.test:8443'];
  const cases: [string, string | undefined][] = [
    ['https://cdn.allowed.test/a.png', 'https://cdn.allowed.test/a.png'],
    ['http://cdn.allowed.test/a.png', 'http://cdn.allowed.test/a.png'],
    ['HTTPS://CDN.ALLOWED.TEST/a.png', 'https://cdn.allowed.test/a.png'],
    ['https://img.example.test/a.png', 'https://img.example.test/a.png'],
    ['//cdn.allowed.test/a.png', 'https://cdn.allowed.test/a.png'],
    // A default port is the same host; any other port is not, unless listed with it.
    ['https://cdn.allowed.test:443/a.png', 'https://cdn.allowed.test/a.png'],
    ['https://cdn.allowed.test:8443/a.png', undefined],
    ['https://ports.test:8443/a.png', 'https://ports.test:8443/a.png'],
    ['https://ports.test/a.png', undefined],
    // Subdomains, parents and look-alikes are other hosts.
    ['https://x.cdn.allowed.test/a.png', undefined],
    ['https://allowed.test/a.png', undefined],
    ['https://cdn.allowed.test.evil.test/a.png', undefined],
    ['https://cdn-allowed.test/a.png', undefined],
    // Userinfo tricks: the host is what follows the @.
    ['https://cdn.allowed.test@evil.test/a.png', undefined],
    ['https://cdn.allowed.test:pw@evil.test/a.png', undefined],
    ['https://evil.test\\@cdn.allowed.test/a.png', undefined],
    ['https://evil.test#@cdn.allowed.test/a.png', undefined],
    ['https://evil.test?@cdn.allowed.test/a.png', undefined],
    // Not http(s), even for an allowed host.
    ['data:image/svg+xml,<svg onload=alert(1)>', undefined],
    ['data:image/png;base64,iVBORw0KGgo=', undefined],
    ['javascript:alert(1)', undefined],
    ['ftp://cdn.allowed.test/a.png', undefined],
    ['blob:https://cdn.allowed.test/uuid', undefined],
    ['https://attacker.test/p.png?q=SECRET', undefined],
    // Relative sources resolve to the page host, which is not listed here.
    ['/logo.png', undefined],
  ];
  it.each(cases)('%j → %j', (raw, expected) => {
    expect(safeImageUrl(raw, hosts, PAGE)).toBe(expected);
  });

  it('with no hosts, nothing loads', () => {
    expect(safeImageUrl('https://cdn.allowed.test/a.png', [], PAGE)).toBeUndefined();
  });

  it('allows a relative source when the page host is listed', () => {
    expect(safeImageUrl('/logo.png', ['shop.test'], PAGE)).toBe('https://shop.test/logo.png');
    expect(safeImageUrl('/logo.png', ['shop.test'])).toBeUndefined();
  });

  it('checks the userinfo trick against the host actually requested', () => {
    // Listing the attacker's host is the only way the @ form loads.
    expect(safeImageUrl('https://cdn.allowed.test@evil.test/a.png', ['evil.test'])).toBe(
      'https://cdn.allowed.test@evil.test/a.png',
    );
  });
});

describe('safeUrl', () => {
  it('is safeLinkUrl without hosts and safeImageUrl with them', () => {
    expect(safeUrl('mailto:a@ok.test', PAGE)).toBe('mailto:a@ok.test');
    expect(safeUrl('mailto:a@ok.test', PAGE, ['ok.test'])).toBeUndefined();
    expect(safeUrl('//cdn.test/a.png', PAGE, [' CDN.test '])).toBe('https://cdn.test/a.png');
    expect(safeUrl('//cdn.test/a.png', PAGE, [])).toBeUndefined();
    expect(safeUrl('javascript:alert(1)', PAGE)).toBeUndefined();
    expect(safeUrl('', PAGE)).toBe(PAGE);
  });
});

describe('safeLang', () => {
  it.each([
    ['js', 'js'],
    ['TypeScript', 'typescript'],
    ['c++', 'c++'],
    ['objective-c', 'objective-c'],
    ['python {.numberLines}', 'python'],
    ['"><img src=x onerror=alert(1)>', 'img'],
    ['"><svg/onload=alert(1)>', 'svgonloadalert1'],
    ['" onmouseover="alert(1)', undefined],
    ['', undefined],
    ['{}', undefined],
    ['x'.repeat(100), 'x'.repeat(32)],
  ] as [string, string | undefined][])('%j → %j', (raw, expected) => {
    expect(safeLang(raw)).toBe(expected);
  });
});

describe('safeListStart', () => {
  it.each([
    ['1', 1],
    ['3', 3],
    ['0', 0],
    ['007', 7],
    ['123456789', 123456789],
    ['1234567890', undefined],
    ['-1', undefined],
    ['1.5', undefined],
    ['1e3', undefined],
    ['', undefined],
    ['2" onclick="x', undefined],
  ] as [string, number | undefined][])('%j → %j', (raw, expected) => {
    expect(safeListStart(raw)).toBe(expected);
  });
});
