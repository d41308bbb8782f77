// HTML pages the bench server serves under /page/<name>. Every page is same-origin with the token
// endpoint and the mock API, like a site that hosts its own broker.

const attr = (v) => String(v).replace(/[&"<>]/g, (c) => `&#${c.charCodeAt(0)};`);

const head = (title, extra = '') =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title>` +
  `<meta name="viewport" content="width=device-width,initial-scale=1">${extra}</head>`;

/** An empty host page: the load-cost measurement injects one bundle into it. */
const empty = () => `${head('bench: empty page')}<body><main><h1>Host page</h1><p>Empty host page.</p></main></body></html>`;

/** The ESM build imported as an SPA would; `window.W` is the module, `window.__ready` says it loaded. */
const esm = () =>
  `${head('bench: ESM')}<body><main><h1>Host page</h1></main>` +
  `<script type="module">import * as W from '/dist/codegpt-widget.js'; window.W = W; window.__ready = true;</script></body></html>`;

/**
 * In-page source shared by the naive and floor pages: reads an SSE completion body and calls
 * `onDelta` with each non-empty piece of answer text, as a minimal hand-written client would.
 */
const READ_DELTAS = `
async function readDeltas(res, onDelta) {
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = buffer.indexOf('\\n\\n')) >= 0) {
      const event = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      if (!event.startsWith('data: ') || event === 'data: [DONE]') continue;
      const piece = JSON.parse(event.slice(6)).choices[0].delta.content;
      if (piece) onDelta(piece);
    }
  }
}`;

/**
 * The naive baseline (issue 6, item 3): read the same SSE stream, and on EVERY piece re-parse the
 * whole text with `marked` and assign `innerHTML`. It sits in a box the size of the widget's panel
 * so layout work is comparable.
 */
const naive = (params) =>
  `${head('bench: naive baseline')}<body><main><h1>Host page</h1></main>` +
  `<div id="log" style="position:fixed;right:20px;bottom:20px;width:380px;height:560px;overflow:auto;` +
  `font:14px/1.5 system-ui,sans-serif;border:1px solid #ccc;border-radius:12px;padding:12px">` +
  `<div id="answer" data-state="idle"></div></div>` +
  `<script src="${attr(params.get('marked') ?? '/peers/node_modules/marked/lib/marked.umd.js')}"></script>` +
  `<script>${READ_DELTAS}
window.naiveSend = async function (question) {
  const el = document.getElementById('answer');
  el.setAttribute('data-state', 'streaming');
  const tok = await (await fetch('/token', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"agentId":"bench-agent"}' })).json();
  const res = await fetch(tok.apiBase + '/chat/completions', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: 'Bearer ' + tok.token },
    body: JSON.stringify({ agentId: 'bench-agent', messages: [{ role: 'user', content: question }], stream: true, format: 'json' }),
  });
  let text = '';
  let pieces = 0;
  await readDeltas(res, (piece) => {
    text += piece;
    pieces++;
    el.innerHTML = marked.parse(text);
  });
  el.setAttribute('data-state', 'done');
  return { chars: text.length, pieces };
};
window.__ready = true;
</script></body></html>`;

/**
 * The floor for the first-token measurement: the least a page can do between a click and the first
 * answer character on screen (one fetch, read the first chunk, set textContent). Same parts as the
 * widget (`input`, `send`, `message assistant`, `content`, `data-state`) so the same probe drives it.
 */
const floor = () =>
  `${head('bench: first-token floor')}<body><main><h1>Host page</h1>` +
  `<div id="log"></div><input part="input" aria-label="question"><button type="button" part="send">Send</button></main>` +
  `<script>${READ_DELTAS}
document.querySelector('[part=send]').addEventListener('click', async () => {
  const input = document.querySelector('[part=input]');
  const msg = document.createElement('div');
  msg.setAttribute('part', 'message assistant');
  msg.setAttribute('data-state', 'streaming');
  const content = document.createElement('div');
  content.setAttribute('part', 'content');
  msg.appendChild(content);
  document.getElementById('log').appendChild(msg);
  const res = await fetch('/api/v1/chat/completions', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: 'Bearer sk-bench' },
    body: JSON.stringify({ agentId: 'bench-agent', messages: [{ role: 'user', content: input.value }], stream: true, format: 'json' }),
  });
  await readDeltas(res, (piece) => (content.textContent += piece));
  msg.setAttribute('data-state', 'done');
});
</script></body></html>`;

const PAGES = { empty, esm, naive, floor };

/** The HTML of page `name`, or undefined. */
export function page(name, params = new URLSearchParams()) {
  return Object.hasOwn(PAGES, name) ? PAGES[name](params) : undefined;
}
