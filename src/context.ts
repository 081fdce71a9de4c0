import { createKernel, type CreatedKernel } from './compute/kernel.js';
import type { Config } from './config.js';
import { Engine } from './engine/engine.js';

/** Every long-lived resource, opened once in order and released in reverse by close(). */
export class AppContext {
  private closed = false;
  /** Set when shutdown begins: /ready answers 503 from then on. */
  shuttingDown = false;
  private constructor(readonly config: Config, readonly kernel: CreatedKernel, readonly engine: Engine) {}

  /**
   * Opens the kernel and SQLite. With `deferLoad`, indexes load when `engine.load()` is awaited
   * (the server listens meanwhile and /ready says 503); otherwise they are loaded on return.
   */
  static async fromConfig(config: Config, opts: { deferLoad?: boolean } = {}): Promise<AppContext> {
    const kernel = await createKernel({ backend: config.kernel, threads: config.threads });
    try {
      const engine = opts.deferLoad
        ? Engine.openDeferred({ dataDir: config.dataDir, kernel, defaults: config.defaults })
        : Engine.open({ dataDir: config.dataDir, kernel, defaults: config.defaults });
      return new AppContext(config, kernel, engine);
    } catch (err) {
      await kernel.close();
      throw err;
    }
  }

  /** Waits for queued cache updates, snapshots, closes SQLite, then the kernel. Safe twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.shuttingDown = true;
    try {
      await this.engine.drain();
      this.engine.close();
    } finally {
      await this.kernel.close();
    }
  }
}
