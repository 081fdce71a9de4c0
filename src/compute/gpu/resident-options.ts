/**
 * The options of the device-resident segments (resident-segments.ts) and their defaults,
 * checked once: what a ResidentSegments is built with, and the ORT options of its sessions.
 */
import type * as ort from 'onnxruntime-node';

export interface ResidentOptions {
  /** Execution providers of the segment sessions: e.g. ['cuda', 'cpu']; ['cpu'] forces the path on the CPU (tests). */
  executionProviders: string[];
  /** Rows per segment, rounded up to a multiple of the matrix's blockRows; default 65,536. */
  segmentRows?: number;
  /** A wanted segment is built once its rows have not changed for this long; default 2000 ms. */
  settleMs?: number;
  /** A matrix without a rerank for this long loses its sessions; default 10 min. */
  idleMs?: number;
  /** Most bytes of rows held in sessions, all matrices together; default unlimited. */
  maxBytes?: number;
  /** Largest share of wall time that timed builds may block the event loop; default 0.1. */
  buildShare?: number;
}

/** ResidentOptions with every default filled in, plus the options each segment session is created with. */
export interface ResidentSettings {
  segmentRows: number;
  settleMs: number;
  idleMs: number;
  maxBytes: number;
  buildShare: number;
  sessionOptions: ort.InferenceSession.SessionOptions;
}

/** Fills in the defaults; throws a RangeError for a segmentRows or buildShare out of range. */
export function residentSettings(opts: ResidentOptions): ResidentSettings {
  const segmentRows = opts.segmentRows ?? 65_536;
  if (!Number.isInteger(segmentRows) || segmentRows < 1) throw new RangeError(`segmentRows must be a positive integer, got ${segmentRows}`);
  const buildShare = opts.buildShare ?? 0.1;
  if (!(buildShare > 0 && buildShare <= 1)) throw new RangeError(`buildShare must be in (0, 1], got ${buildShare}`);
  return {
    segmentRows,
    settleMs: opts.settleMs ?? 2000,
    idleMs: opts.idleMs ?? 600_000,
    maxBytes: opts.maxBytes ?? Infinity,
    buildShare,
    sessionOptions: {
      executionProviders: opts.executionProviders,
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
      executionMode: 'sequential',
    },
  };
}
