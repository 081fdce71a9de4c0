import { setImmediate as yieldToLoop } from 'node:timers/promises';

/** Work between event-loop turns (ms): the quality measurements run beside live searches. */
const SLICE_MS = 8;

/** Checkpoints for a long loop: `due()` once a slice of work has passed since the last `pause()`. */
export class TimeSlice {
  private start = performance.now();

  due(): boolean {
    return performance.now() - this.start > SLICE_MS;
  }

  /** Lets the event loop run (searches, I/O), then starts a new slice. */
  async pause(): Promise<void> {
    await yieldToLoop();
    this.start = performance.now();
  }
}
