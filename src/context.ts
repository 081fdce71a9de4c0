import { createKernel, type CreatedKernel } from './compute/kernel.js';
import type { Config } from './config.js';
import { Engine } from './engine/engine.js';

/** Every long-lived resource, opened once in order and released in reverse by close(). */
export class AppContext {
  private closed = false;
  private constructor(readonly config: Config, readonly kernel: CreatedKernel, readonly engine: Engine) {}

  static async fromConfig(config: Config): Promise<AppContext> {
    const kernel = await createKernel({ backend: config.kernel, threads: config.threads });
    try {
      const engine = Engine.open({ dataDir: config.dataDir, kernel, defaults: config.defaults });
      return new AppContext(config, kernel, engine);
    } catch (err) {
      await kernel.close();
      throw err;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      this.engine.close();
    } finally {
      await this.kernel.close();
    }
  }
}
