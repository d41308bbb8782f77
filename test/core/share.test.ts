import { describe, expect, it, vi } from 'vitest';
import { share } from '../../widget/core/share';
import type { Shared } from '../../widget/core/share';

describe('share', () => {
  it('creates once per key, disposes with the last release, by the creator', () => {
    const map = new Map<string, Shared<{ n: number }>>();
    const disposeA = vi.fn();
    const disposeB = vi.fn();
    const create = vi.fn(() => ({ n: 1 }));
    const [a, releaseA] = share(map, 'k', create, disposeA);
    const [b, releaseB] = share(map, 'k', create, disposeB);
    expect(create).toHaveBeenCalledTimes(1);
    expect(b).toBe(a);
    releaseA();
    releaseA(); // a second call does nothing
    expect(disposeA).not.toHaveBeenCalled();
    expect(map.has('k')).toBe(true);
    releaseB();
    expect(disposeA).toHaveBeenCalledExactlyOnceWith(a);
    expect(disposeB).not.toHaveBeenCalled();
    expect(map.has('k')).toBe(false);
    // A new user after the last release gets a new value.
    const [c] = share(map, 'k', create, disposeA);
    expect(c).not.toBe(a);
  });

  it('keeps keys apart', () => {
    const map = new Map<string, Shared<string>>();
    const [x] = share(map, 'x', () => 'X', () => {});
    const [y] = share(map, 'y', () => 'Y', () => {});
    expect([x, y]).toEqual(['X', 'Y']);
  });
});
