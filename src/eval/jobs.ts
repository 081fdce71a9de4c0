import { randomUUID } from 'node:crypto';
import { MrlError } from '../errors.js';

export type JobState = 'running' | 'done' | 'failed';

export interface Job<T = unknown> {
  id: string;
  kind: string;
  collection: string;
  state: JobState;
  progress: { done: number; total: number };
  result?: T;
  error?: { code: string; message: string };
  startedAt: string;
  finishedAt?: string;
}

const KEEP_FINISHED = 20;

/** Evaluation jobs in memory: started, polled by id, the last few kept after they finish. */
export class JobRegistry {
  private readonly jobs = new Map<string, Job>();

  start<T>(kind: string, collection: string, run: (progress: (done: number, total: number) => void) => Promise<T>): Job<T> {
    const job: Job<T> = {
      id: randomUUID(),
      kind,
      collection,
      state: 'running',
      progress: { done: 0, total: 0 },
      startedAt: new Date().toISOString(),
    };
    this.jobs.set(job.id, job);
    run((done, total) => (job.progress = { done, total }))
      .then(
        (result) => {
          job.result = result;
          job.state = 'done';
        },
        (err: unknown) => {
          job.state = 'failed';
          job.error = err instanceof MrlError ? { code: err.code, message: err.message } : { code: 'INTERNAL', message: 'internal error' };
        },
      )
      .finally(() => {
        job.finishedAt = new Date().toISOString();
        this.prune();
      });
    return job;
  }

  get(id: string): Job {
    const job = this.jobs.get(id);
    if (!job) throw new MrlError('JOB_NOT_FOUND', { id });
    return job;
  }

  private prune(): void {
    const finished = [...this.jobs.values()].filter((j) => j.state !== 'running');
    for (const j of finished.slice(0, Math.max(0, finished.length - KEEP_FINISHED))) this.jobs.delete(j.id);
  }
}
