import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Kernel } from './compute/kernel.js';
import { Engine } from './engine/engine.js';
import type { ServerDefaults } from './search/plan.js';
import { ApiKeyStore } from './store/api-keys.js';
import { DB_FILE } from './store/backup.js';
import { CollectionStore } from './store/collections.js';
import { closeDatabase, openDatabase, type Db } from './store/db.js';
import { EvalRunStore } from './store/eval-runs.js';
import { ItemStore } from './store/items.js';

export interface DataOptions { dataDir: string; kernel: Kernel; defaults?: ServerDefaults; deferLoad?: boolean }

/**
 * One data dir: SQLite, the stores over it and the engine over them (its index snapshots in
 * `index/`), opened together and closed in reverse. Tests, benchmarks and the report open this
 * alone; the server and the CLI get it through AppContext.
 */
export class DataContext {
  private closed = false;
  private constructor(
    readonly db: Db,
    readonly collections: CollectionStore,
    readonly items: ItemStore,
    readonly evalRuns: EvalRunStore,
    readonly keys: ApiKeyStore,
    readonly engine: Engine,
    /** True when this open created the database (a new data dir). */
    readonly isNew: boolean,
  ) {}

  /** Opens SQLite (migrated), builds the stores and the engine; with `deferLoad`, `engine.load()` loads the caches. */
  static async open(opts: DataOptions): Promise<DataContext> {
    const snapshotDir = join(opts.dataDir, 'index');
    mkdirSync(snapshotDir, { recursive: true });
    const file = join(opts.dataDir, DB_FILE);
    const isNew = !existsSync(file);
    const db = openDatabase(file);
    try {
      const collections = new CollectionStore(db);
      const items = new ItemStore(db);
      const engine = await Engine.open({ collections, items, kernel: opts.kernel, snapshotDir, defaults: opts.defaults }, { deferLoad: opts.deferLoad });
      return new DataContext(db, collections, items, new EvalRunStore(db), new ApiKeyStore(db), engine, isNew);
    } catch (err) {
      closeDatabase(db);
      throw err;
    }
  }

  /** The engine (queued cache updates, then snapshots), then SQLite. No snapshot when SQLite was closed under it. Safe twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      if (this.db.open) await this.engine.close();
    } finally {
      closeDatabase(this.db);
    }
  }
}
