import { setPriority } from 'node:os';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * A worker thread running the module `name` next to the module at `from` (its import.meta.url),
 * from the compiled files or from the TypeScript sources alike. Run from sources (tsx), the
 * worker registers tsx's loader itself before importing its module: hooks registered in this
 * thread do not reach a worker's entry.
 */
export function moduleWorker(from: string, name: string, opts: WorkerOptions = {}): Worker {
  const fromTs = from.endsWith('.ts');
  const entry = new URL(`./${name}${fromTs ? '.ts' : '.js'}`, from);
  if (!fromTs) return new Worker(entry, opts);
  const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  return new Worker(`import(${tsx}).then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); });`, {
    ...opts,
    eval: true,
  });
}

/**
 * Lowers the calling thread's priority to `nice` (on Linux each thread has a nice value of its
 * own, so a worker's call leaves the other threads as they are); where that is not allowed, the
 * thread keeps its priority.
 */
export function niceThisThread(nice: number): void {
  if (nice <= 0) return;
  try {
    setPriority(nice);
  } catch {
    // not allowed here: the normal priority
  }
}
