import { batch, computed, signal, type ReadonlySignal } from '@preact/signals-core';
import {
  addUserMessage,
  appendText,
  beginAssistant,
  lastUserIndex,
  reopen,
  settle,
  toWire,
  type Messages,
} from '../core/conversation';
import { createDeltaBuffer, type Scheduler } from '../core/delta-buffer';
import { isAbortError, WidgetError } from '../core/errors';
import type { ChatStatus, Message } from '../core/types';
import type { ChatTransport } from '../io/transport';

/** Events the chat model reports (embed.md section 3); the embedding layer fans them out. */
export interface ChatEvents {
  send: { text: string };
  answer: { message: Message };
  error: { code: WidgetError['code']; status?: number; message: string };
}

export interface ChatModelOptions {
  transport: ChatTransport;
  createId: () => string;
  /** Paces view updates (requestAnimationFrame in the browser). */
  schedule: Scheduler;
  /** Messages to start from (restored from storage). */
  initial?: Messages;
  /** Called after every change worth keeping (a question asked, an answer ended). */
  save?: (messages: Messages) => void;
  emit?: <K extends keyof ChatEvents>(event: K, detail: ChatEvents[K]) => void;
  /** Longest question accepted, in characters. @defaultValue 8000 */
  maxInput?: number;
}

export interface ChatModel {
  readonly messages: ReadonlySignal<Messages>;
  readonly status: ReadonlySignal<ChatStatus>;
  /** The error behind `status === 'error'`, else null. */
  readonly error: ReadonlySignal<WidgetError | null>;
  /** True while a question is in flight (the view shows Stop instead of Send). */
  readonly busy: ReadonlySignal<boolean>;
  /** Ask a question; resolves when its answer has ended, however it ended. */
  send(text: string): Promise<void>;
  /** Ask the last question again; the broken answer is replaced once the new one starts. */
  retry(): Promise<void>;
  /** Stop the answer in flight; the text received so far is kept (`stopped`). */
  stop(): void;
  /** Stop, and forget the conversation. */
  reset(): void;
  /** Stop everything; the model is dead afterwards. */
  dispose(): void;
}

/**
 * The conversation as signals plus actions (style rules 8–10). It owns the AbortController of the
 * answer in flight, never sees fetch (the transport is injected), and keeps partial answers.
 */
interface Flight {
  controller: AbortController;
  /** The visitor (or a newer question) stopped it: its end is `stopped`, not an error. */
  stopped: boolean;
  /** reset() forgot it: its end must not touch the new conversation. */
  detached: boolean;
  done: Promise<void>;
}

export function createChatModel(options: ChatModelOptions): ChatModel {
  const { transport, createId, schedule, save, emit } = options;
  const maxInput = options.maxInput ?? 8000;
  const messages = signal<Messages>(options.initial ?? []);
  // An answer restored in `error` was cut off (a navigation mid-stream): say so, and offer Retry.
  const cut = messages.value.at(-1)?.state === 'error';
  const status = signal<ChatStatus>(cut ? 'error' : 'idle');
  const error = signal<WidgetError | null>(cut ? new WidgetError('interrupted', 'The answer was interrupted.') : null);
  const busy = computed(() => status.value === 'connecting' || status.value === 'streaming');
  let inFlight: Flight | undefined;
  let disposed = false;

  function persist(): void {
    if (!disposed) save?.(messages.value);
  }

  /** Run one request for the question at `questionIndex`, answering into message `answerId`. */
  function run(questionIndex: number, answerId: string, replace: boolean): Promise<void> {
    const controller = new AbortController();
    let replaceNext = replace;
    const buffer = createDeltaBuffer((text) => {
      messages.value = appendText(messages.value, answerId, text, replaceNext);
      replaceNext = false;
    }, schedule);
    const flight: Flight = { controller, stopped: false, detached: false, done: Promise.resolve() };
    batch(() => {
      status.value = 'connecting';
      error.value = null;
    });

    flight.done = (async () => {
      let failure: WidgetError | undefined;
      try {
        await transport.send({
          messages: toWire(messages.value, questionIndex + 1),
          signal: controller.signal,
          onFirstByte: () => {
            if (!controller.signal.aborted) status.value = 'streaming';
          },
          onDelta: (text) => {
            if (!controller.signal.aborted) buffer.push(text);
          },
        });
      } catch (e) {
        if (!(flight.stopped || disposed) || !isAbortError(e)) {
          failure = e instanceof WidgetError ? e : new WidgetError('network', 'Request failed.', { cause: e });
        }
      }
      const whole = !failure && !flight.stopped;
      if (whole) {
        // The whole answer is in: show what is still queued at the buffer's pace, so a burst never
        // freezes the page. Stop or a new question shows the rest at once, and the answer, complete,
        // ends done; reset and destroy drop it.
        const end = () => (disposed || flight.detached ? buffer.cancel() : buffer.flush());
        controller.signal.addEventListener('abort', end);
        await buffer.drain();
        controller.signal.removeEventListener('abort', end);
      }
      if (disposed || flight.detached) {
        buffer.cancel();
        return;
      }
      buffer.flush();
      if (inFlight === flight) inFlight = undefined;
      const state = flight.stopped && !whole ? 'stopped' : failure ? 'error' : 'done';
      batch(() => {
        messages.value = settle(messages.value, answerId, state);
        status.value = failure && !flight.stopped ? 'error' : 'idle';
        error.value = failure && !flight.stopped ? failure : null;
      });
      persist();
      if (failure && !flight.stopped) {
        emit?.('error', { code: failure.code, ...(failure.status ? { status: failure.status } : {}), message: failure.message });
      }
      const message = messages.value.find((m) => m.id === answerId);
      if (message) emit?.('answer', { message });
    })();
    inFlight = flight;
    return flight.done;
  }

  async function settleInFlight(): Promise<void> {
    const flight = inFlight;
    if (!flight) return;
    flight.stopped = true;
    flight.controller.abort();
    await flight.done;
  }

  return {
    messages,
    status,
    error,
    busy,
    async send(text) {
      if (disposed || typeof text !== 'string') return;
      const question = text.trim();
      if (question === '') return;
      if (question.length > maxInput) {
        const failure = new WidgetError('config', `Questions are limited to ${maxInput} characters.`);
        batch(() => {
          error.value = failure;
          status.value = 'error';
        });
        emit?.('error', { code: failure.code, message: failure.message });
        return;
      }
      // Only a previous answer is waited for: otherwise the request starts in this very call.
      if (inFlight) await settleInFlight();
      if (disposed) return;
      const questionId = createId();
      const answerId = createId();
      messages.value = beginAssistant(addUserMessage(messages.value, questionId, question), answerId);
      persist();
      emit?.('send', { text: question });
      await run(messages.value.length - 2, answerId, false);
    },
    async retry() {
      if (disposed || inFlight) return;
      const list = messages.value;
      const q = lastUserIndex(list);
      if (q < 0) return;
      const next = list[q + 1];
      if (next && next.role === 'assistant') {
        // Busy again at once (typing indicator, aria-busy); the old text stays until new text arrives.
        messages.value = reopen(list, next.id);
        await run(q, next.id, true);
      } else {
        const answerId = createId();
        messages.value = [...list.slice(0, q + 1), { id: answerId, role: 'assistant', content: '', state: 'streaming' }];
        await run(q, answerId, false);
      }
    },
    stop() {
      if (!inFlight) return;
      inFlight.stopped = true;
      inFlight.controller.abort();
    },
    reset() {
      if (disposed) return;
      if (inFlight) {
        inFlight.stopped = true;
        inFlight.detached = true;
        inFlight.controller.abort();
        inFlight = undefined;
      }
      batch(() => {
        messages.value = [];
        status.value = 'idle';
        error.value = null;
      });
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      inFlight?.controller.abort();
      inFlight = undefined;
    },
  };
}
