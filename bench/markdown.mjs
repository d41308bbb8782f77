// Deterministic markdown answers for the streaming benchmark (issue 6, item 3): the same seed gives
// the same text on every machine, so runs are comparable. Headings, paragraphs with inline marks,
// links, bullet and numbered lists, code fences, a quote and a little non-ASCII text.

/** Small seeded PRNG (mulberry32): deterministic, no dependency. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = (
  'widget stream token answer render parser agent request browser frame delta buffer shadow launcher ' +
  'panel message history origin broker signal element script bundle latency layout paint heap node ' +
  'listener chunk event server client header body cache retry backoff limit config option locale café naïve'
).split(' ');

/**
 * A markdown document of at least `minChars` characters (it stops at the first block boundary past
 * it, so a fence or list is never cut in half).
 */
export function markdownAnswer(minChars, seed = 6) {
  const rnd = prng(seed);
  const pick = (list) => list[Math.floor(rnd() * list.length)];
  const words = (n) => Array.from({ length: n }, () => pick(WORDS)).join(' ');
  const sentence = () => {
    const parts = [];
    const n = 6 + Math.floor(rnd() * 10);
    for (let i = 0; i < n; i++) {
      const r = rnd();
      const w = pick(WORDS);
      if (r < 0.06) parts.push(`**${w}**`);
      else if (r < 0.1) parts.push(`*${w}*`);
      else if (r < 0.15) parts.push(`\`${w}()\``);
      else if (r < 0.19) parts.push(`[${w} docs](https://docs.example.com/${w}/${Math.floor(rnd() * 100)})`);
      else parts.push(w);
    }
    const s = parts.join(' ');
    return s.charAt(0).toUpperCase() + s.slice(1) + '.';
  };
  const paragraph = () => Array.from({ length: 2 + Math.floor(rnd() * 3) }, sentence).join(' ');
  const code = (i) => {
    const lines = [`// example ${i}: ${words(4)}`, `export function ${pick(WORDS)}${i}(input) {`];
    for (let j = 0; j < 4 + Math.floor(rnd() * 6); j++) {
      lines.push(`  const ${pick(WORDS)}${j} = input.${pick(WORDS)} ?? ${Math.floor(rnd() * 1000)}; // ${words(3)}`);
    }
    lines.push('  return { ok: true, items: [1, 2, 3].map((n) => n * 2) };', '}');
    return '```' + pick(['js', 'ts', 'json', 'bash', 'python']) + '\n' + lines.join('\n') + '\n```';
  };
  const blocks = [];
  let length = 0;
  let section = 0;
  while (length < minChars) {
    section++;
    const out = [];
    out.push(`${section % 4 === 1 ? '##' : '###'} ${section}. ${words(3)}`);
    out.push(paragraph());
    const kind = section % 3;
    if (kind === 0) out.push(Array.from({ length: 3 + Math.floor(rnd() * 4) }, () => `- ${sentence()}`).join('\n'));
    else if (kind === 1) out.push(Array.from({ length: 3 + Math.floor(rnd() * 3) }, (_, i) => `${i + 1}. ${sentence()}`).join('\n'));
    else out.push(`> ${sentence()}`);
    out.push(code(section));
    out.push(paragraph());
    const block = out.join('\n\n');
    blocks.push(block);
    length += block.length + 2;
  }
  return blocks.join('\n\n') + '\n';
}

/** Short answer for the first-token and memory turns (a heading-free paragraph, a list and a fence). */
export function shortAnswer(n = 0) {
  return (
    `Answer ${n}: the **widget** streams this reply in small pieces. See [the docs](https://docs.example.com/${n}).\n\n` +
    `- first point about \`mount()\`\n- second point, café ☕\n\n` +
    '```js\nconst w = mount({ agentId: "bench-agent" });\nawait w.send("hi");\n```\n\nDone.'
  );
}

/** Cut text into pieces of `size` code points (never inside a surrogate pair). */
export function pieces(text, size = 10) {
  const cps = Array.from(text);
  const out = [];
  for (let i = 0; i < cps.length; i += size) out.push(cps.slice(i, i + size).join(''));
  return out;
}
