import { MrlError } from '../errors.js';
import type { Engine } from '../engine/engine.js';
import type { EvalRunStore } from '../store/eval-runs.js';
import { evaluate, type EvaluateOptions } from './evaluate.js';
import { JobRegistry, type Job } from './jobs.js';
import { sweep, type SweepOptions } from './sweep.js';
import type { EvalResult, SweepResult } from './types.js';

/**
 * Evaluations and sweeps for the server and the CLI: one at a time (they measure latency, and
 * two would skew each other), results stored with the collection, long ones run as jobs.
 */
export class EvalService {
  readonly jobs = new JobRegistry();
  private busy: string | null = null;
  /** Told after a sweep applied its tuning (cluster mode: every node takes it, src/cluster/tuning.ts). */
  onTuned: (collection: string) => Promise<void> = async () => undefined;

  constructor(
    private readonly engine: Engine,
    private readonly runs: EvalRunStore,
  ) {}

  evaluate(opts: EvaluateOptions): Promise<EvalResult> {
    return this.exclusive(`eval of '${opts.collection}'`, async () => {
      const r = await evaluate(this.engine, opts);
      this.save(opts.collection, 'eval', r);
      return r;
    });
  }

  sweep(opts: SweepOptions): Promise<SweepResult> {
    return this.exclusive(`sweep of '${opts.collection}'`, async () => {
      const r = await sweep(this.engine, opts);
      this.save(opts.collection, 'sweep', r);
      if (r.applied) await this.onTuned(opts.collection);
      return r;
    });
  }

  /** Starts `evaluate` or `sweep` as a job; the busy check happens now, so a 409 comes at once. */
  startJob(kind: 'eval', opts: EvaluateOptions): Job<EvalResult>;
  startJob(kind: 'sweep', opts: SweepOptions): Job<SweepResult>;
  startJob(kind: 'eval' | 'sweep', opts: EvaluateOptions | SweepOptions): Job {
    this.engine.runtime(opts.collection);
    if (this.busy) throw new MrlError('EVAL_BUSY', { detail: this.busy });
    return this.jobs.start<EvalResult | SweepResult>(kind, opts.collection, (onProgress) =>
      kind === 'eval' ? this.evaluate({ ...(opts as EvaluateOptions), onProgress }) : this.sweep({ ...(opts as SweepOptions), onProgress }),
    );
  }

  latest(collection: string): { eval: EvalResult | null; sweep: SweepResult | null } {
    const id = this.engine.runtime(collection).record.id;
    return { eval: this.runs.latest<EvalResult>(id, 'eval'), sweep: this.runs.latest<SweepResult>(id, 'sweep') };
  }

  private save(collection: string, kind: 'eval' | 'sweep', result: unknown): void {
    try {
      this.runs.save(this.engine.runtime(collection).record.id, kind, result);
    } catch (err) {
      // Dropped while it ran: there is nothing to store it with.
      if (!(err instanceof MrlError && err.code === 'COLLECTION_NOT_FOUND')) throw err;
    }
  }

  private async exclusive<T>(what: string, fn: () => Promise<T>): Promise<T> {
    if (this.busy) throw new MrlError('EVAL_BUSY', { detail: this.busy });
    this.busy = what;
    try {
      return await fn();
    } finally {
      this.busy = null;
    }
  }
}
