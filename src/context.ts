import { createKernel, type CreatedKernel } from './compute/kernel.js';
import type { Config } from './config.js';
import { EncoderRegistry } from './encoders/registry.js';
import { initTf, type TfInit } from './encoders/tf-backend.js';
import { Engine } from './engine/engine.js';
import { EvalService } from './eval/service.js';

export const DEFAULT_COLLECTION = 'default';

/** Every long-lived resource, opened once in order and released in reverse by close(). */
export class AppContext {
  private closed = false;
  /** Set when shutdown begins: /ready answers 503 from then on. */
  shuttingDown = false;
  private constructor(
    readonly config: Config,
    readonly kernel: CreatedKernel,
    readonly encoders: EncoderRegistry,
    readonly tf: TfInit | null,
    readonly engine: Engine,
    readonly evals: EvalService = new EvalService(engine),
  ) {}

  /**
   * Opens the kernel, the models' registry (TensorFlow.js starts only when there are models),
   * and SQLite. With `deferLoad`, indexes load when `engine.load()` is awaited (the server
   * listens meanwhile and /ready says 503); otherwise they are loaded on return. With
   * `createDefault` (the server), a new data dir gets a `default` collection bound to the default encoder.
   */
  static async fromConfig(config: Config, opts: { deferLoad?: boolean; createDefault?: boolean } = {}): Promise<AppContext> {
    const kernel = await createKernel({ backend: config.kernel, threads: config.threads, batchWindowUs: config.batch.windowUs, batchMax: config.batch.max });
    const encoders = new EncoderRegistry(config.modelsDir, config.embed);
    try {
      const tf = encoders.names().length > 0 ? await initTf(config.tfBackend) : null;
      const engineOpts = { dataDir: config.dataDir, kernel, defaults: config.defaults, encoders };
      const engine = opts.deferLoad ? Engine.openDeferred(engineOpts) : Engine.open(engineOpts);
      if (opts.createDefault && engine.isNew && config.defaultEncoder && encoders.has(config.defaultEncoder)) {
        engine.createCollection({ name: DEFAULT_COLLECTION, encoder: config.defaultEncoder });
      }
      return new AppContext(config, kernel, encoders, tf, engine);
    } catch (err) {
      await encoders.dispose();
      await kernel.close();
      throw err;
    }
  }

  /** Waits for queued cache updates, snapshots, closes SQLite, the models, then the kernel. Safe twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.shuttingDown = true;
    try {
      await this.engine.drain();
      this.engine.close();
    } finally {
      await this.encoders.dispose();
      await this.kernel.close();
    }
  }
}
