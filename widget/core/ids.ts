/**
 * Message ids: unique within a page and across reloads of a stored conversation. The random source
 * is injectable so tests get stable ids.
 */
export function createIdFactory(random: () => number = Math.random): () => string {
  let n = 0;
  const prefix = Math.floor(random() * 0x7fffffff).toString(36);
  return () => `m${prefix}${(n++).toString(36)}`;
}
