/** Where {@link share} keeps its entries: a `Map` or a `WeakMap`. */
export interface ShareMap<K, V> {
  get(key: K): Shared<V> | undefined;
  set(key: K, entry: Shared<V>): unknown;
  delete(key: K): unknown;
}

/** An entry of a {@link ShareMap}: the value, its users, and how its creator disposes of it. */
export interface Shared<V> {
  value: V;
  users: number;
  dispose(value: V): void;
}

/**
 * One `value` per `key`, shared by every user: the first call creates it, and when the last user
 * releases it, the entry is removed and the value disposed by the `dispose` of the call that created
 * it. Returns the value and this user's `release`, which acts only the first time it is called.
 */
export function share<K, V>(map: ShareMap<K, V>, key: K, create: () => V, dispose: (value: V) => void): [V, () => void] {
  const entry = map.get(key) ?? { value: create(), users: 0, dispose };
  map.set(key, entry);
  entry.users++;
  let released = false;
  return [
    entry.value,
    () => {
      if (released) return;
      released = true;
      // An entry is removed as soon as it has no users, so `key` still maps to this one.
      if (!--entry.users) {
        map.delete(key);
        entry.dispose(entry.value);
      }
    },
  ];
}
