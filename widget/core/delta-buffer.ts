/** Cancels a scheduled callback. */
export type Cancel = () => void;
/** Runs `cb` later (requestAnimationFrame in the browser, by hand in tests); returns a canceller. */
export type Scheduler = (cb: () => void) => Cancel;

export interface DeltaBuffer {
  /** Queue answer text; at most one flush is scheduled however many deltas arrive before it runs. */
  push(text: string): void;
  /** Deliver queued text now (end of answer, stop, error). */
  flush(): void;
  /** Drop queued text and the scheduled flush (destroy). */
  cancel(): void;
}

/**
 * Coalesces streamed deltas so the view updates once per frame, not once per network chunk
 * (style guide: pacing belongs to the binding, as in vercel/ai `throttle.ts`). Work per push is
 * O(length of the delta): pieces are joined only when flushed.
 */
export function createDeltaBuffer(deliver: (text: string) => void, schedule: Scheduler): DeltaBuffer {
  let pending: string[] = [];
  let cancelScheduled: Cancel | undefined;

  function flush(): void {
    cancelScheduled?.();
    cancelScheduled = undefined;
    if (pending.length === 0) return;
    const text = pending.join('');
    pending = [];
    deliver(text);
  }

  return {
    push(text) {
      if (text === '') return;
      pending.push(text);
      if (cancelScheduled) return;
      let ran = false;
      const cancel = schedule(() => {
        ran = true;
        cancelScheduled = undefined;
        flush();
      });
      // A scheduler may run the callback synchronously; then nothing is left to cancel.
      if (!ran) cancelScheduled = cancel;
    },
    flush,
    cancel() {
      cancelScheduled?.();
      cancelScheduled = undefined;
      pending = [];
    },
  };
}
