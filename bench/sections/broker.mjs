// Item 6: the reference broker (dist/server.js on dist/server-node.js, run by bench/server.mjs).
// Requests per second of POST /token (bounded count, fixed concurrency, loopback only), and the
// time the proxy adds to the first answer byte: the same streamed answer asked directly of the
// upstream and through the broker, alternating, median of each.
import { performance } from 'node:perf_hooks';
import { median, quantile } from '../browser.mjs';

async function pool(total, concurrency, fn, deadline) {
  let next = 0;
  const worker = async () => {
    while (next < total && performance.now() < deadline) await fn(next++);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return next;
}

/** Milliseconds from fetch() to the first body bytes that carry answer text; drains the rest. */
async function firstContentByte(url, init) {
  const t0 = performance.now();
  const res = await fetch(url, init);
  if (res.status !== 200) {
    await res.arrayBuffer();
    throw new Error(`${url} answered ${res.status}`);
  }
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let t1 = NaN;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (Number.isNaN(t1) && decoder.decode(value, { stream: true }).includes('"content"')) t1 = performance.now();
  }
  return t1 - t0;
}

export async function measureBroker(origin, brokerUrl, { requests = 2000, concurrency = 16, pairs = 150, timeLimitMs = 60_000 } = {}) {
  const headers = { 'Content-Type': 'application/json', Origin: origin };
  const tokenBody = JSON.stringify({ agentId: 'bench-agent', widgetVersion: 'bench' });
  let failures = 0;
  let lastStatus = 0;
  const hit = async () => {
    const r = await fetch(brokerUrl + '/token', { method: 'POST', headers, body: tokenBody });
    const text = await r.text();
    if (r.status !== 200) (failures++, (lastStatus = r.status));
    return text;
  };
  const token = JSON.parse(await hit()).token;
  if (!token) throw new Error(`broker /token gave no token (status ${lastStatus})`);
  await pool(200, concurrency, hit, performance.now() + 10_000); // warm-up (JIT, keep-alive sockets)
  failures = 0;
  const t0 = performance.now();
  const done = await pool(requests, concurrency, hit, t0 + timeLimitMs / 2);
  const seconds = (performance.now() - t0) / 1000;

  // The same loop against the bench server's own trivial /token: the ceiling of this client and
  // loopback on this machine right now, so the broker's figure can be read as a ratio.
  const plain = async () => (await fetch(origin + '/token', { method: 'POST', headers, body: tokenBody })).text();
  await pool(200, concurrency, plain, performance.now() + 10_000);
  const p0 = performance.now();
  const plainDone = await pool(requests, concurrency, plain, p0 + timeLimitMs / 4);
  const plainRps = plainDone / ((performance.now() - p0) / 1000);

  const ask = (q) => JSON.stringify({ agentId: 'bench-agent', messages: [{ role: 'user', content: q }], stream: true, format: 'json' });
  const direct = [];
  const proxied = [];
  const deadline = performance.now() + timeLimitMs / 2;
  for (let i = 0; i < pairs + 10 && performance.now() < deadline; i++) {
    const viaDirect = () =>
      firstContentByte(origin + '/api/v1/chat/completions', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: 'Bearer sk-bench' },
        body: ask(`bench:short#d${i}`),
      });
    const viaBroker = () =>
      firstContentByte(brokerUrl + '/chat/completions', {
        method: 'POST',
        headers: { ...headers, Authorization: `Bearer ${token}` },
        body: ask(`bench:short#b${i}`),
      });
    // Alternate which goes first so neither always gets the warmer socket.
    const [a, b] = i % 2 ? [await viaDirect(), await viaBroker()] : [await viaBroker(), await viaDirect()].reverse();
    if (i >= 10) (direct.push(a), proxied.push(b));
  }
  const inside = await (await fetch(`${origin}/__broker-stats?last=${direct.length}`)).json();
  return {
    tokenRequests: done,
    concurrency,
    seconds,
    rps: done / seconds,
    failures,
    plainRps,
    firstByte: {
      pairs: direct.length,
      directMs: median(direct),
      brokerMs: median(proxied),
      addedMs: median(proxied) - median(direct),
      addedP90Ms: quantile(proxied, 0.9) - quantile(direct, 0.9),
      inside,
    },
  };
}
