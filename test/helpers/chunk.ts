/**
 * Splits an input the ways a network may deliver it (style rule 13): whole, one unit at a time, and
 * at seeded random points. Streaming code must give the same result for every chunking.
 *
 * Strings split between code points: decoded text (TextDecoder with `stream: true`) never ends a
 * chunk inside a surrogate pair. Byte arrays split between any two bytes, so multi-byte UTF-8
 * sequences do get cut (codegpt-api.md section 9.3); use them for code that decodes bytes itself.
 */

/** One way of cutting an input. */
export interface Chunking<T> {
  /** Human-readable label for test names, e.g. `random(seed=7)`. */
  name: string;
  chunks: T[];
}

type Input = string | Uint8Array;

/** A small deterministic PRNG (mulberry32) so failures can be replayed from the seed. */
export function createRng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Offsets where a split is allowed: every code point boundary of a string, every byte of an array. */
function boundaries(input: Input): number[] {
  const points: number[] = [];
  if (typeof input === 'string') {
    let offset = 0;
    for (const char of input) {
      offset += char.length;
      points.push(offset);
    }
  } else {
    for (let i = 1; i <= input.length; i++) points.push(i);
  }
  return points;
}

/** Cuts `input` at the given offsets (sorted, deduplicated, out-of-range ones dropped). */
export function splitAt<T extends Input>(input: T, offsets: readonly number[]): T[] {
  const cuts = [...new Set(offsets)].filter((n) => n > 0 && n < input.length).sort((a, b) => a - b);
  const chunks: T[] = [];
  let start = 0;
  for (const cut of [...cuts, input.length]) {
    chunks.push(input.slice(start, cut) as T);
    start = cut;
  }
  return chunks.length > 0 ? chunks : [input];
}

/** Random chunks of 1..maxSize units (code points or bytes), drawn from `rng`. */
export function randomChunks<T extends Input>(input: T, rng: () => number, maxSize = 16): T[] {
  const points = boundaries(input);
  const offsets: number[] = [];
  let index = -1;
  for (;;) {
    index += 1 + Math.floor(rng() * maxSize);
    const offset = points[index];
    if (offset === undefined) break;
    offsets.push(offset);
  }
  return splitAt(input, offsets);
}

/**
 * The standard chunkings of an input: whole, one code point (or byte) at a time, and several
 * seeded random splits with small and larger pieces. Joining any chunking gives back the input.
 */
export function chunkings<T extends Input>(input: T, seed = 1): Chunking<T>[] {
  const result: Chunking<T>[] = [
    { name: 'whole', chunks: [input] },
    { name: 'one at a time', chunks: splitAt(input, boundaries(input)) },
  ];
  const rng = createRng(seed);
  for (const maxSize of [2, 3, 7, 16, 64]) {
    result.push({ name: `random(seed=${seed}, max=${maxSize})`, chunks: randomChunks(input, rng, maxSize) });
  }
  return result;
}
