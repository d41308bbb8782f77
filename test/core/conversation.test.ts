import { describe, expect, it } from 'vitest';
import {
  addUserMessage,
  appendText,
  beginAssistant,
  lastUserIndex,
  restoreMessages,
  settle,
  toWire,
} from '../../widget/core/conversation';

describe('conversation transitions', () => {
  it('builds a turn without mutating the input', () => {
    const empty = [] as const;
    const a = addUserMessage(empty, 'u1', 'Hi');
    const b = beginAssistant(a, 'a1');
    const c = appendText(appendText(b, 'a1', 'Hel'), 'a1', 'lo');
    expect(empty).toEqual([]);
    expect(b[1]).toEqual({ id: 'a1', role: 'assistant', content: '', state: 'streaming' });
    expect(c[1]!.content).toBe('Hello');
    expect(b[1]!.content).toBe('');
    expect(settle(c, 'a1', 'stopped')[1]).toEqual({ id: 'a1', role: 'assistant', content: 'Hello', state: 'stopped' });
  });

  it('replace swaps a broken answer for the first text of the retried one', () => {
    const broken = settle(appendText(beginAssistant(addUserMessage([], 'u', 'q'), 'a'), 'a', 'partial'), 'a', 'error');
    const retried = appendText(broken, 'a', 'New', true);
    expect(retried[1]).toMatchObject({ content: 'New', state: 'streaming' });
  });

  it('unknown ids leave the list as it is', () => {
    const list = addUserMessage([], 'u', 'q');
    expect(appendText(list, 'nope', 'x')).toBe(list);
    expect(settle(list, 'nope', 'done')).toBe(list);
  });

  it('toWire sends user/assistant history without empty answers, cut at upTo', () => {
    let m = addUserMessage([], 'u1', 'one');
    m = settle(appendText(beginAssistant(m, 'a1'), 'a1', 'first'), 'a1', 'done');
    m = beginAssistant(addUserMessage(m, 'u2', 'two'), 'a2');
    expect(toWire(m)).toEqual([
      { role: 'user', content: 'one' },
      { role: 'assistant', content: 'first' },
      { role: 'user', content: 'two' },
    ]);
    expect(toWire(m, 1)).toEqual([{ role: 'user', content: 'one' }]);
    expect(lastUserIndex(m)).toBe(2);
    expect(lastUserIndex([])).toBe(-1);
  });

  it('restoreMessages marks an answer cut off by navigation as error and drops malformed entries', () => {
    const restored = restoreMessages([
      { id: 'u', role: 'user', content: 'q', state: 'streaming' },
      { id: 'a', role: 'assistant', content: 'part', state: 'streaming' },
      { id: 's', role: 'system', content: 'x', state: 'done' },
      { id: 5, role: 'user', content: 'bad id' },
      null,
      'junk',
      { id: 'b', role: 'assistant', content: 'ok', state: 'stopped' },
    ]);
    expect(restored).toEqual([
      { id: 'u', role: 'user', content: 'q', state: 'done' },
      { id: 'a', role: 'assistant', content: 'part', state: 'error' },
      { id: 'b', role: 'assistant', content: 'ok', state: 'stopped' },
    ]);
    expect(restoreMessages({})).toEqual([]);
  });
});
