import { cut } from './cut';

/** Cancels a scheduled callback. */
export type Cancel = () => void;
/** Runs `cb` later (requestAnimationFrame in the browser, by hand in tests); returns a canceller. */
export type Scheduler = (cb: () => void) => Cancel;

export interface DeltaBuffer {
  /** Queue answer text; at most one delivery is scheduled however many deltas arrive before it runs. */
  push(text: string): void;
  /** Deliver all queued text now (Stop, an error). */
  flush(): void;
  /**
   * Resolves once everything queued is delivered, still at most one frame's worth per frame, so a
   * burst (a proxy that buffered the whole answer, a fast model) never renders in one long task;
   * or when {@link flush} or {@link cancel} ends it.
   */
  drain(): Promise<void>;
  /** Drop queued text and the scheduled delivery (reset, destroy); a pending drain resolves. */
  cancel(): void;
}

/**
 * Characters delivered per frame. Far above any model's pace (240 kB/s at 60 frames per second),
 * so it only paces bursts; a frame's worth renders in a few milliseconds.
 */
export const FRAME_CHARS = 4096;
/**
 * The most frames the view may lag behind the stream. A bigger backlog (megabytes from a broken
 * proxy) is shown in bigger steps: pacing it a frame's worth at a time would re-lay out a giant
 * block hundreds of times and finish seconds later.
 */
const MAX_LAG_FRAMES = 16;

/**
 * Coalesces streamed deltas so the view updates once per frame, not once per network chunk
 * (style guide: pacing belongs to the binding, as in vercel/ai `throttle.ts`), with
 * `maxPerFrame` characters per update, more only when the view would lag more than
 * {@link MAX_LAG_FRAMES} frames behind. Work per push is O(length of the delta).
 */
export function createDeltaBuffer(deliver: (text: string) => void, schedule: Scheduler, maxPerFrame = FRAME_CHARS): DeltaBuffer {
  let pending = '';
  let cancelScheduled: Cancel | undefined;
  const drained: (() => void)[] = [];

  /** Delivers up to `max` characters (never half a surrogate pair) and schedules the rest. */
  function deliverUpTo(max: number): void {
    cancelScheduled?.();
    cancelScheduled = undefined;
    const text = cut(pending, max);
    pending = pending.slice(text.length);
    if (text) deliver(text);
    if (pending) arm();
    else for (const resolve of drained.splice(0)) resolve();
  }

  function arm(): void {
    if (cancelScheduled) return;
    let ran = false;
    const cancel = schedule(() => {
      ran = true;
      cancelScheduled = undefined;
      deliverUpTo(Math.max(maxPerFrame, pending.length - maxPerFrame * MAX_LAG_FRAMES));
    });
    // A scheduler may run the callback synchronously; then nothing is left to cancel.
    if (!ran) cancelScheduled = cancel;
  }

  return {
    push(text) {
      // Appending makes a rope: joined once, when delivered.
      pending += text;
      if (text) arm();
    },
    flush: () => deliverUpTo(Infinity),
    drain: () => new Promise((resolve) => (pending ? drained.push(resolve) : resolve())),
    cancel() {
      pending = '';
      deliverUpTo(0);
    },
  };
}
