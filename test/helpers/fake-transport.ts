import { WidgetError } from '../../widget/core/errors';
import type { WireMessage } from '../../widget/core/types';
import type { ChatRequest, ChatTransport } from '../../widget/io/transport';

/** One scripted request: the test drives it step by step. */
export interface ScriptedCall {
  messages: WireMessage[];
  signal: AbortSignal;
  delta(text: string): void;
  finish(): void;
  fail(error: WidgetError): void;
}

/**
 * An in-memory ChatTransport (style rule 9): every send() becomes a ScriptedCall the test controls.
 * Aborting the signal rejects with an AbortError, as fetch does.
 */
export function createFakeTransport(): ChatTransport & { calls: ScriptedCall[] } {
  const calls: ScriptedCall[] = [];
  return {
    calls,
    send(request: ChatRequest) {
      return new Promise<void>((resolve, reject) => {
        let first = true;
        const abort = () => reject(Object.assign(new Error('aborted'), { name: 'AbortError' }));
        if (request.signal.aborted) return abort();
        request.signal.addEventListener('abort', abort, { once: true });
        calls.push({
          messages: request.messages,
          signal: request.signal,
          delta(text) {
            if (first) request.onFirstByte?.();
            first = false;
            request.onDelta(text);
          },
          finish: () => resolve(),
          fail: (e) => reject(e),
        });
      });
    },
  };
}

export const interrupted = () => new WidgetError('interrupted', 'The answer was interrupted.', { afterBytes: true });
