import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { PendingIndex } from './pending-index.js';

export interface SliceOptions {
  /** How a slice runs: at once (default), or in a queue shared with other index work (a collection's runtime). */
  run?: (slice: () => Promise<void>) => Promise<void>;
  /**
   * Told of the error that stopped the loop (also kept in `error`). Default: thrown again, as an
   * unhandled rejection (in a search worker, that ends the worker and the pool replaces it).
   */
  failed?: (err: Error) => void;
}

/**
 * Index insertion behind the commit, for a collection's runtime and a search worker's replica:
 * while rows are pending, one batch (PendingIndex.indexBatch, inserted on the thread pool), then
 * the next. A batch that throws stops the loop (see SliceOptions.failed).
 */
export class SliceScheduler {
  error: Error | null = null;
  private scheduled = false;
  private stopped = false;

  constructor(
    private readonly pending: PendingIndex,
    /** Inserts one batch of pending rows (PendingIndex.indexBatch into the current index). */
    private readonly slice: () => Promise<unknown>,
    private readonly opts: SliceOptions = {},
  ) {}

  /** Schedules the next slice when rows are pending and none is scheduled. */
  kick(): void {
    if (this.scheduled || this.stopped || this.error || this.pending.size === 0) return;
    this.scheduled = true;
    const run = this.opts.run ?? ((s) => s());
    void run(async () => {
      try {
        await yieldToLoop(); // rows committed in this turn go in the same batch
        if (!this.stopped) await this.slice();
      } finally {
        this.scheduled = false;
      }
    }).then(
      () => this.kick(),
      (err: Error) => {
        this.error = err;
        if (!this.opts.failed) throw err;
        this.opts.failed(err);
      },
    );
  }

  /** No slice runs after this one (the replica closed). */
  stop(): void {
    this.stopped = true;
  }
}
