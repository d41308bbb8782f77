import { describe, expect, it, vi } from 'vitest';
import { WidgetError } from '../../widget/core/errors';
import { FRAME_CHARS } from '../../widget/core/delta-buffer';
import { createChatModel, type ChatModelOptions } from '../../widget/model/chat-model';
import { createFakeTransport, interrupted } from '../helpers/fake-transport';

/** Runs scheduled flushes synchronously, so tests see text as soon as it is pushed. */
const immediate = (cb: () => void) => {
  cb();
  return () => {};
};

function setup(extra: Partial<ChatModelOptions> = {}) {
  const transport = createFakeTransport();
  let n = 0;
  const events: [string, unknown][] = [];
  const saved: unknown[] = [];
  const chat = createChatModel({
    transport,
    createId: () => `id${n++}`,
    schedule: immediate,
    emit: (e, d) => events.push([e, d]),
    save: (m) => saved.push(m),
    ...extra,
  });
  const tick = () => new Promise((r) => setTimeout(r, 0));
  return { chat, transport, events, saved, tick };
}

describe('chat model', () => {
  it('send → connecting → streaming → done, with the full history on the wire', async () => {
    const { chat, transport, events, tick } = setup();
    const first = chat.send('  Hello  ');
    await tick();
    expect(chat.status.value).toBe('connecting');
    expect(chat.busy.value).toBe(true);
    const call = transport.calls[0]!;
    expect(call.messages).toEqual([{ role: 'user', content: 'Hello' }]);
    call.delta('Hi ');
    expect(chat.status.value).toBe('streaming');
    call.delta('there');
    expect(chat.messages.value[1]).toMatchObject({ role: 'assistant', content: 'Hi there', state: 'streaming' });
    call.finish();
    await first;
    expect(chat.status.value).toBe('idle');
    expect(chat.messages.value[1]!.state).toBe('done');
    expect(events.map((e) => e[0])).toEqual(['send', 'answer']);
    expect(events[1]![1]).toEqual({ message: chat.messages.value[1] });

    const second = chat.send('More?');
    await tick();
    expect(transport.calls[1]!.messages).toEqual([
      { role: 'user', content: 'Hello' },
      { role: 'assistant', content: 'Hi there' },
      { role: 'user', content: 'More?' },
    ]);
    transport.calls[1]!.finish();
    await second;
  });

  it('ignores empty questions and refuses over-long ones with a config error', async () => {
    const { chat, transport, events } = setup({ maxInput: 10 });
    await chat.send('   ');
    expect(transport.calls).toHaveLength(0);
    await chat.send('x'.repeat(11));
    expect(transport.calls).toHaveLength(0);
    expect(chat.error.value?.code).toBe('config');
    expect(events[0]![0]).toBe('error');
  });

  it('stop keeps the partial answer as stopped, with no error and no later text', async () => {
    const { chat, transport, events, tick } = setup();
    const done = chat.send('q');
    await tick();
    const call = transport.calls[0]!;
    call.delta('partial');
    chat.stop();
    await done;
    call.delta(' late');
    expect(call.signal.aborted).toBe(true);
    expect(chat.messages.value[1]).toMatchObject({ content: 'partial', state: 'stopped' });
    expect(chat.status.value).toBe('idle');
    expect(chat.error.value).toBeNull();
    expect(events.map((e) => e[0])).toEqual(['send', 'answer']);
  });

  it('a broken stream keeps the partial answer (error) and Retry re-asks without duplicating the question', async () => {
    const { chat, transport, events, tick } = setup();
    const done = chat.send('Why?');
    await tick();
    transport.calls[0]!.delta('Because');
    transport.calls[0]!.fail(interrupted());
    await done;
    expect(chat.messages.value[1]).toMatchObject({ content: 'Because', state: 'error' });
    expect(chat.status.value).toBe('error');
    expect(chat.error.value?.code).toBe('interrupted');
    expect(events.find((e) => e[0] === 'error')![1]).toEqual({ code: 'interrupted', message: 'The answer was interrupted.' });

    const retried = chat.retry();
    await tick();
    expect(transport.calls[1]!.messages).toEqual([{ role: 'user', content: 'Why?' }]);
    // The broken text stays visible until the new answer starts; the answer is busy again meanwhile.
    expect(chat.messages.value[1]).toMatchObject({ content: 'Because', state: 'streaming' });
    transport.calls[1]!.delta('Fresh');
    expect(chat.messages.value[1]).toMatchObject({ content: 'Fresh', state: 'streaming' });
    transport.calls[1]!.finish();
    await retried;
    expect(chat.messages.value.map((m) => m.role)).toEqual(['user', 'assistant']);
    expect(chat.messages.value[1]).toMatchObject({ content: 'Fresh', state: 'done' });
    expect(chat.error.value).toBeNull();
  });

  it('a retry that fails before any byte keeps the old partial answer', async () => {
    const { chat, transport, tick } = setup();
    const done = chat.send('q');
    await tick();
    transport.calls[0]!.delta('kept');
    transport.calls[0]!.fail(interrupted());
    await done;
    const again = chat.retry();
    await tick();
    transport.calls[1]!.fail(new WidgetError('network', 'Network down'));
    await again;
    expect(chat.messages.value[1]).toMatchObject({ content: 'kept', state: 'error' });
    expect(chat.error.value?.code).toBe('network');
  });

  it('a new question while one streams stops the first (kept as stopped)', async () => {
    const { chat, transport, tick } = setup();
    void chat.send('first');
    await tick();
    transport.calls[0]!.delta('one');
    const second = chat.send('second');
    await tick();
    await tick();
    expect(chat.messages.value[1]).toMatchObject({ content: 'one', state: 'stopped' });
    expect(transport.calls).toHaveLength(2);
    transport.calls[1]!.finish();
    await second;
  });

  it('saves after asking and after the answer ends, never per delta', async () => {
    const { chat, transport, saved, tick } = setup();
    const done = chat.send('q');
    await tick();
    expect(saved).toHaveLength(1);
    transport.calls[0]!.delta('a');
    transport.calls[0]!.delta('b');
    expect(saved).toHaveLength(1);
    transport.calls[0]!.finish();
    await done;
    expect(saved).toHaveLength(2);
  });

  it('reset forgets the conversation, and a late end of the old answer changes nothing', async () => {
    const { chat, transport, tick } = setup();
    void chat.send('q');
    await tick();
    chat.reset();
    expect(chat.messages.value).toEqual([]);
    expect(transport.calls[0]!.signal.aborted).toBe(true);
    const next = chat.send('new');
    await tick();
    await tick();
    expect(chat.status.value).toBe('connecting');
    transport.calls[1]!.finish();
    await next;
    expect(chat.messages.value.map((m) => m.content)).toEqual(['new', '']);
  });

  it('dispose aborts the request and emits nothing more', async () => {
    const { chat, transport, events, tick } = setup();
    const done = chat.send('q');
    await tick();
    chat.dispose();
    await done;
    expect(transport.calls[0]!.signal.aborted).toBe(true);
    expect(events.map((e) => e[0])).toEqual(['send']);
    await chat.send('after');
    expect(transport.calls).toHaveLength(1);
  });

  it('with nothing in flight, the request starts within the send() call (before the view can render)', async () => {
    const { chat, transport } = setup();
    const done = chat.send('now');
    expect(transport.calls).toHaveLength(1);
    expect(chat.status.value).toBe('connecting');
    transport.calls[0]!.finish();
    await done;
  });

  it('coalesces deltas through the injected scheduler', async () => {
    const queue: (() => void)[] = [];
    const { chat, transport, tick } = setup({ schedule: (cb) => (queue.push(cb), () => {}) });
    const spy = vi.fn();
    const done = chat.send('q');
    await tick();
    const unsub = chat.messages.subscribe(spy);
    spy.mockClear();
    transport.calls[0]!.delta('a');
    transport.calls[0]!.delta('b');
    transport.calls[0]!.delta('c');
    expect(spy).not.toHaveBeenCalled();
    queue.splice(0).forEach((cb) => cb());
    expect(spy).toHaveBeenCalledTimes(1);
    expect(chat.messages.value[1]!.content).toBe('abc');
    transport.calls[0]!.finish();
    await done;
    unsub();
  });

  describe('a burst of text at the end of an answer', () => {
    /** Frames run by hand; the answer arrives as one burst of 2.5 frames' worth. */
    function burst() {
      const queue: (() => void)[] = [];
      const t = setup({ schedule: (cb) => (queue.push(cb), () => void queue.splice(queue.indexOf(cb) >>> 0, 1)) });
      const frame = () => queue.splice(0).forEach((cb) => cb());
      const text = 'x'.repeat(FRAME_CHARS * 2 + FRAME_CHARS / 2);
      let settled = false;
      const done = t.chat.send('q').then(() => (settled = true));
      return { ...t, frame, text, done, settled: () => settled };
    }

    it('is shown a frame at a time; the answer stays streaming until its last character is shown', async () => {
      const { chat, transport, tick, frame, text, done, settled, events } = burst();
      await tick();
      transport.calls[0]!.delta(text);
      transport.calls[0]!.finish();
      await tick();
      const answer = () => chat.messages.value[1]!;
      // Three frames show it, one frame's worth each.
      expect(answer().content).toBe('');
      frame();
      await tick();
      expect(answer().content).toHaveLength(FRAME_CHARS);
      expect(answer().state).toBe('streaming');
      expect(chat.status.value).toBe('streaming');
      expect(settled()).toBe(false);
      frame();
      await tick();
      expect(answer().content).toHaveLength(FRAME_CHARS * 2);
      expect(settled()).toBe(false);
      frame();
      await done;
      expect(answer()).toMatchObject({ content: text, state: 'done' });
      expect(chat.status.value).toBe('idle');
      expect(events.filter((e) => e[0] === 'answer')).toHaveLength(1);
    });

    it('Stop meanwhile shows the rest at once; the answer arrived whole, so it ends done', async () => {
      const { chat, transport, tick, text, done } = burst();
      await tick();
      transport.calls[0]!.delta(text);
      transport.calls[0]!.finish();
      await tick();
      chat.stop();
      await done;
      expect(chat.messages.value[1]).toMatchObject({ content: text, state: 'done' });
      expect(chat.status.value).toBe('idle');
    });

    it('a new question meanwhile shows the rest at once, ends the previous answer done and asks', async () => {
      const { chat, transport, tick, text, done } = burst();
      await tick();
      transport.calls[0]!.delta(text);
      transport.calls[0]!.finish();
      await tick();
      const next = chat.send('next');
      await done;
      await tick();
      expect(chat.messages.value[1]).toMatchObject({ content: text, state: 'done' });
      expect(chat.messages.value[2]).toMatchObject({ role: 'user', content: 'next' });
      expect(transport.calls).toHaveLength(2);
      transport.calls[1]!.finish();
      await next;
    });

    it('reset meanwhile drops the rest and the old answer never comes back', async () => {
      const { chat, transport, tick, frame, text, done } = burst();
      await tick();
      transport.calls[0]!.delta(text);
      transport.calls[0]!.finish();
      await tick();
      chat.reset();
      frame();
      await done;
      expect(chat.messages.value).toEqual([]);
      expect(chat.status.value).toBe('idle');
    });
  });
});
