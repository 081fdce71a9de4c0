import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { CreatedKernel } from './compute/kernel.js';
import { Engine } from './engine/engine.js';
import { PrefixIndex } from './index/prefix-index.js';
import type { ServerDefaults } from './search/plan.js';
import { ApiKeyStore } from './store/api-keys.js';
import { DB_FILE } from './store/backup.js';
import { CollectionStore } from './store/collections.js';
import { closeDatabase, openDatabase, type Db } from './store/db.js';
import { EvalRunStore } from './store/eval-runs.js';
import { ItemStore } from './store/items.js';
import { QualityReportStore, RotationStore } from './store/quality.js';
import { QualityService } from './quality/service.js';
import { SearchPool } from './engine/pool/search-pool.js';
import { IngestWriter } from './ingest/ingest-writer.js';
import { sharedSafe } from './engine/pool/shared-safe-kernel.js';

export interface DataOptions {
  dataDir: string;
  kernel: CreatedKernel;
  defaults?: ServerDefaults;
  deferLoad?: boolean;
  /** Share of searches the quality guard re-runs exactly (MRL_AUDIT_RATE; default 0.01). */
  auditRate?: number;
  /** Search worker threads (MRL_SEARCH_THREADS; the server's default is one per core); 0 or absent: searches run in this thread. */
  searchThreads?: number;
  /** NDJSON and file ingest on a thread of their own (MRL_INGEST_THREAD; default on); false: on this thread. */
  ingestThread?: boolean;
  /** The ingest thread's nice value (MRL_INGEST_NICE; default 0 here, 10 from the config). */
  ingestNice?: number;
  /** Nice value of HNSW insertion on the thread pool (MRL_INDEX_NICE; default 0 here, 10 from the config). */
  indexNice?: number;
}

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
    readonly quality: QualityService,
    /** True when this open created the database (a new data dir). */
    readonly isNew: boolean,
    readonly pool?: SearchPool,
    /** The ingest thread (src/ingest/): NDJSON and file ingest parsed and committed off this thread. */
    readonly writer?: IngestWriter,
  ) {}

  /** Opens SQLite (migrated), builds the stores and the engine; with `deferLoad`, `engine.load()` loads the caches. */
  static async open(opts: DataOptions): Promise<DataContext> {
    const snapshotDir = join(opts.dataDir, 'index');
    mkdirSync(snapshotDir, { recursive: true });
    const file = join(opts.dataDir, DB_FILE);
    const isNew = !existsSync(file);
    const db = openDatabase(file);
    const threads = opts.searchThreads ?? 0;
    const pool = threads > 0 ? new SearchPool(threads, { dbFile: file, defaults: opts.defaults ?? { k: 10, shortlist: 200 } }) : undefined;
    // Shared matrices: what this thread still reads of them in place (audits, evaluation) runs on the JS kernel.
    const kernel = pool ? sharedSafe(opts.kernel) : opts.kernel;
    try {
      const collections = new CollectionStore(db);
      const items = new ItemStore(db);
      const rotations = new RotationStore(db);
      PrefixIndex.insertionNice = opts.indexNice ?? 0;
      const engine = await Engine.open(
        { collections, items, kernel, snapshotDir, defaults: opts.defaults, rotations, pool },
        { deferLoad: opts.deferLoad },
      );
      const evalRuns = new EvalRunStore(db);
      collections.deleted.push((id) => evalRuns.forget(id));
      const quality = new QualityService(engine, new QualityReportStore(db), rotations, evalRuns, opts.auditRate ?? 0.01);
      // Started at the first ingest (src/ingest/): a data dir that takes none starts no thread.
      const writer = opts.ingestThread === false ? undefined : new IngestWriter({ dbFile: file, nice: opts.ingestNice ?? 0 });
      return new DataContext(db, collections, items, evalRuns, new ApiKeyStore(db), engine, quality, isNew, pool, writer);
    } catch (err) {
      await pool?.close();
      closeDatabase(db);
      throw err;
    }
  }

  /** The engine (queued cache updates, then snapshots), then SQLite. No snapshot when SQLite was closed under it. Safe twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.quality.close();
      await this.writer?.close(); // its open ingests fail; its connection closes before this one
      if (this.db.open) await this.engine.close();
    } finally {
      await this.pool?.close(); // the workers' read connections close before this one
      closeDatabase(this.db);
    }
  }
}
