import { createKernel } from './compute/create-kernel.js';
import type { CreatedKernel } from './compute/kernel.js';
import type { Config } from './config.js';
import { EncoderRegistry } from './encoders/registry.js';
import { initTf, type TfInit } from './encoders/tf-backend.js';
import type { CollectionSpec } from './engine/collection-spec.js';
import type { Engine } from './engine/engine.js';
import type { RunResult } from './engine/search-run.js';
import { localKeyWrites, localReads, localWrites, type KeyWrites, type Reads, type Writes } from './cluster/facade.js';
import { DataContext } from './data-context.js';
import type { IngestReport } from './io/ndjson-ingest.js';
import { mrlError } from './errors.js';
import { EvalService } from './eval/service.js';
import { checkItem } from './inputs/check-item.js';
import { withEncoderShape } from './inputs/collection-spec.js';
import { embedInputs, embedQuery, type ItemInput, type QueryInput } from './inputs/embed.js';
import type { SearchOptions } from './search/options.js';
import type { ApiKeyStore } from './store/api-keys.js';
import type { CollectionRecord } from './store/collections.js';

/** What src/http needs of the key store (routes see no store module: see .dependency-cruiser.cjs). */
export type { ApiKey, Role } from './store/api-keys.js';

export const DEFAULT_COLLECTION = 'default';

/**
 * Every long-lived resource, opened once in order and released in reverse by close(); and the
 * few operations that embed text and image inputs with the models before the engine is called.
 */
export class AppContext {
  private closed = false;
  /** Set when shutdown begins: /ready answers 503 from then on. */
  shuttingDown = false;
  readonly engine: Engine;
  readonly evals: EvalService;
  /** API keys, in the data dir's SQLite (closed with it). */
  readonly keys: ApiKeyStore;
  /** What the routes write and read through: this node's engine, or in cluster mode the log and the shards' replicas (src/cluster/). */
  writes: Writes = localWrites(this);
  reads: Reads = localReads(this);
  /** What the key routes create and revoke through: this node's table, or in cluster mode the keys every node shares. */
  keyWrites: KeyWrites;
  private constructor(
    readonly config: Config,
    readonly kernel: CreatedKernel,
    readonly encoders: EncoderRegistry,
    readonly tf: TfInit | null,
    readonly data: DataContext,
  ) {
    this.engine = data.engine;
    this.evals = new EvalService(data.engine, data.evalRuns);
    this.keys = data.keys;
    this.keyWrites = localKeyWrites(data.keys);
    data.quality.resweep = (opts) => this.evals.sweep(opts);
    this.evals.onTuned = (name) => this.writes.tuned(name);
  }

  /**
   * Opens the kernel, the models' registry (TensorFlow.js starts only when there are models),
   * and the data dir. With `deferLoad`, indexes load when `engine.load()` is awaited (the server
   * listens meanwhile and /ready says 503); otherwise they are loaded on return. With
   * `createDefault` (the server), a new data dir gets a `default` collection bound to the default encoder.
   */
  static async fromConfig(config: Config, opts: { deferLoad?: boolean; createDefault?: boolean } = {}): Promise<AppContext> {
    const kernel = await createKernel({
      backend: config.kernel,
      threads: config.threads,
      batchWindowUs: config.batch.windowUs,
      batchMax: config.batch.max,
    });
    const encoders = new EncoderRegistry(config.modelsDir, config.embed);
    let data: DataContext | undefined;
    try {
      const tf = encoders.names().length > 0 ? await initTf(config.tfBackend) : null;
      data = await DataContext.open({
        dataDir: config.dataDir,
        kernel,
        defaults: config.defaults,
        deferLoad: opts.deferLoad,
        auditRate: config.auditRate,
        // Searches on worker threads with a CPU kernel each; the GPU kernel keeps them in this thread.
        searchThreads: config.kernel === 'gpu' ? 0 : config.searchThreads,
        ingestThread: config.ingestThread,
        ingestNice: config.ingestNice,
        indexNice: config.indexNice,
      });
      const ctx = new AppContext(config, kernel, encoders, tf, data);
      if (opts.createDefault && data.isNew && config.defaultEncoder && encoders.has(config.defaultEncoder)) {
        ctx.createCollection({ name: DEFAULT_COLLECTION, encoder: config.defaultEncoder });
      }
      if (config.auth.adminKey) ctx.keys.bootstrap(config.auth.adminKey);
      return ctx;
    } catch (err) {
      try {
        await data?.close();
      } finally {
        await encoders.dispose();
        await kernel.close();
      }
      throw err;
    }
  }

  /** A collection; one bound to an encoder takes the encoder's dim and nesting unless given. */
  createCollection(spec: CollectionSpec): CollectionRecord {
    return this.engine.createCollection(withEncoderShape(spec, this.encoders));
  }

  /** Embeds the items' inputs with the collection's encoder, then upserts the batch (all or nothing). */
  async upsert(name: string, items: ItemInput[]): Promise<{ upserted: number }> {
    const rec = this.engine.runtime(name).record;
    if (!Array.isArray(items)) throw mrlError('VALIDATION', 'items must be an array');
    return this.engine.upsert(name, await embedInputs(rec, this.encoders, items));
  }

  /**
   * NDJSON lines or a file (`.fvecs` or NDJSON) ingested on the ingest thread (src/ingest/): null,
   * doing nothing, when there is none (MRL_INGEST_THREAD=false) or the collection has an encoder;
   * the caller then ingests through `checkItem` and `upsert` here.
   */
  ingestLines(
    name: string,
    source: AsyncIterable<Buffer | string> | { file: string },
    opts: { batch: number; maxLineBytes?: number; pendingCap?: number; onCommit?: (p: { upserted: number }) => void },
  ): Promise<IngestReport> | null {
    return this.data.writer?.ingestInto(this.engine, name, source, opts) ?? null;
  }

  /** Validates one item as `upsert` would; throws the coded error (NDJSON and file ingest skip such lines). */
  checkItem(name: string, item: ItemInput): Promise<ItemInput> {
    return checkItem(this.engine.runtime(name).record, this.encoders, item);
  }

  /** Embeds a query's input, then searches; `ms` covers both. */
  async search(name: string, query: QueryInput, opts: SearchOptions = {}): Promise<RunResult & { ms: number }> {
    const t0 = performance.now();
    const q = await embedQuery(this.engine.runtime(name).record, this.encoders, query);
    return { ...(await this.engine.search(name, q, opts, undefined, true)), ms: performance.now() - t0 };
  }

  /** The data dir (engine drain and snapshots, then SQLite), the models, then the kernel. Safe twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.shuttingDown = true;
    try {
      await this.data.close();
    } finally {
      try {
        await this.encoders.dispose();
      } finally {
        await this.kernel.close();
      }
    }
  }
}
