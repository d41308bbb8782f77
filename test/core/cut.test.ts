import { describe, expect, it } from 'vitest';
import { cut } from '../../widget/core/cut';

describe('cut', () => {
  it('keeps the first `end` code units', () => {
    expect(cut('abcdef', 3)).toBe('abc');
    expect(cut('abc', 3)).toBe('abc');
    expect(cut('abc', 10)).toBe('abc');
    expect(cut('abc', Infinity)).toBe('abc');
    expect(cut('abc', 0)).toBe('');
  });

  it('stops before a surrogate pair it would split, and only then', () => {
    expect(cut('ab😀cd', 3)).toBe('ab');
    expect(cut('ab😀cd', 4)).toBe('ab😀');
    expect(cut('ab😀', 4)).toBe('ab😀');
    // A text that itself ends in a lone high surrogate is not cut further.
    expect(cut('ab\ud83d', 3)).toBe('ab\ud83d');
  });
});
