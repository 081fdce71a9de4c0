import type { WireError } from '../../errors.js';
import type { MatrixHandle } from '../../core/resident-matrix.js';
import type { Plan, SearchOptions } from '../../search/options.js';
import type { ServerDefaults } from '../../search/plan.js';
import type { Query } from '../../search/query.js';
import type { CollectionRecord } from '../../store/collections.js';
import type { RunResult } from '../search-run.js';

/** What a search worker is started with (workerData). */
export interface WorkerInit {
  /** The SQLite file, opened read-only by the worker. */
  dbFile: string;
  defaults: ServerDefaults;
}

/**
 * One committed write of a collection, as every worker gets it after the main thread applied it
 * to the shared matrix (built and read by write-message.ts): the added rows' first `dim` values
 * as stored (`prefixes`: seqs.length × dim; the index dim's, normalised by the replica as the
 * main thread's runtime does), the removed seqs, the seqs whose metadata changed in place, and
 * what the filter columns keep of the added rows and then the patched ones: each one's label
 * and the values of the indexed fields `fields` (`values`: (seqs + patched) × fields.length).
 */
export interface WriteMessage {
  t: 'write';
  name: string;
  dim: number;
  seqs: number[];
  prefixes: Float32Array;
  removed: number[];
  patched: number[];
  fields: string[];
  labels: (string | null)[];
  values: unknown[];
}

/** A handle to one of the main thread's HNSW graphs for the worker to adopt, and the graph's own handle there (which names it). */
export interface SharedIndex {
  handle: number;
  id: number;
}

/** Messages to a worker, applied in the order posted (searches queue behind earlier writes). */
export type ToWorker =
  | { t: 'open'; record: CollectionRecord; matrix: MatrixHandle; index: SharedIndex }
  /** With `index`: the collection's graph was replaced (a retune). */
  | { t: 'record'; record: CollectionRecord; index?: SharedIndex }
  /** Rows a batch put into graph `id`: not pending any more. */
  | { t: 'indexed'; name: string; id: number; seqs: number[] }
  | { t: 'drop'; name: string }
  | { t: 'rotation' }
  | WriteMessage
  | { t: 'search'; id: number; name: string; query: Query; opts: SearchOptions; observe: boolean }
  | { t: 'memory'; id: number; name: string }
  /** Exit at once, as a crash would (tests): at a message boundary, so no native call is cut short. */
  | { t: 'crash' }
  | { t: 'close' };

/** What one worker holds of a collection, its own copies (the resident matrix is shared): bytes by structure, and how often its filter columns were built from SQLite. */
export interface WorkerMemory {
  indexBytes: number;
  metadataCacheBytes: number;
  filterColumnsBytes: number;
  filterColumnsBuilds: number;
}

/** The arguments a search's observer was called with in the worker (the main thread's hooks are told). */
export interface Observed {
  vector: Float32Array;
  exclude?: number;
  plan: Plan;
}

/** An error as it crosses the thread boundary: an MrlError's code and params, or a message. */
export type { WireError } from '../../errors.js';

export type FromWorker =
  | { t: 'result'; id: number; result: RunResult; observed?: Observed }
  | { t: 'error'; id: number; error: WireError }
  | { t: 'memory'; id: number; memory: WorkerMemory | null }
  | { t: 'closed' };
