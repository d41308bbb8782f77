import { describe, expect, it } from 'vitest';
import {
  MAX_WIRE_CHARS,
  MAX_WIRE_MESSAGES,
  MAX_WIRE_MESSAGE_CHARS,
  type Messages,
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

  it('toWire keeps the most recent history within the caps, starting with a question', () => {
    let m: Messages = [];
    for (let i = 0; i < 40; i++) {
      m = addUserMessage(m, `u${i}`, `question ${i}`);
      m = settle(appendText(beginAssistant(m, `a${i}`), `a${i}`, `answer ${i}`), `a${i}`, 'done');
    }
    const wire = toWire(m);
    expect(wire).toHaveLength(MAX_WIRE_MESSAGES);
    expect(wire[0]).toEqual({ role: 'user', content: 'question 15' });
    expect(wire[wire.length - 1]).toEqual({ role: 'assistant', content: 'answer 39' });

    const big = 'x'.repeat(20_000);
    let n: Messages = addUserMessage([], 'q1', 'y'.repeat(7_000));
    n = settle(appendText(beginAssistant(n, 'b1'), 'b1', big), 'b1', 'done');
    n = addUserMessage(n, 'q2', 'short follow-up');
    // The long answer is cut to the per-message cap rather than breaking the request.
    expect(toWire(n).map((w) => w.content.length)).toEqual([7_000, MAX_WIRE_MESSAGE_CHARS, 15]);
    n = addUserMessage(n, 'q3', 'z'.repeat(20_000));
    const capped = toWire(n);
    expect(capped.map((w) => w.content.length)).toEqual([15, 20_000]);
    expect(capped.reduce((s, w) => s + w.content.length, 0)).toBeLessThanOrEqual(MAX_WIRE_CHARS);
    // The question itself always goes, even when it alone is over the cap.
    expect(toWire(addUserMessage([], 'huge', 'y'.repeat(40_000)))).toHaveLength(1);
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
