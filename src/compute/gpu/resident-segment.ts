/**
 * One device-resident segment: rows of the resident matrix (a RerankMatrix) baked into an ORT
 * session as an initializer (residentRowsTopKModel), which an execution provider uploads once,
 * at session creation, and keeps on the device; each run sends only queries and segment-local
 * row indices. Here: baking one, running one, and releasing sessions once unused.
 */
import * as ort from 'onnxruntime-node';
import type { RerankMatrix, TopK } from '../kernel.js';
import { unpack } from '../onnx-kernel.js';
import { residentRowsModelLayout } from '../onnx-model.js';

/** A baked segment: the rows as they were at matrix `version`; `users` reranks hold it, so a retired one is released when they finish. */
export interface Segment {
  readonly session: ort.InferenceSession;
  readonly version: number;
  readonly bytes: number;
  users: number;
  retired: boolean;
}

/** One query's share of a segment: the query (d values), row indices local to the segment, their scales. */
export interface SegmentQuery {
  query: Float32Array;
  local: Int32Array;
  scale: Float32Array;
  k: number;
}

/** Bytes of rows copied per event-loop turn while baking. */
const COPY_BYTES = 4 << 20;
const yieldTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Bakes slots [i·S, (i+1)·S) of m. The rows are copied into the model a slice per event-loop
 * turn (a 192 MiB segment takes ~0.2 s to copy); a write meanwhile may tear the copy, so the
 * copy is dropped (null) if a stamp of the segment passed the version read before it, or if
 * `stop()` says so. Creating the session is synchronous in onnxruntime-node 1.30: it blocks the
 * event loop (~0.35 s for 65,536 × 768 on the CPU provider here). Throws if ORT fails.
 */
export async function bakeSegment(
  m: RerankMatrix,
  i: number,
  S: number,
  options: ort.InferenceSession.SessionOptions,
  stop: () => boolean,
): Promise<{ session: ort.InferenceSession; version: number } | null> {
  const w = m.width;
  const version = m.version;
  const { bytes: model, dataOffset } = residentRowsModelLayout(S, w);
  const step = Math.max(1, Math.floor(COPY_BYTES / (w * 4)));
  for (let r = 0; r < S; r += step) {
    if (r > 0) await yieldTurn();
    if (stop() || (i + 1) * S > m.size) return null;
    const n = Math.min(step, S - r);
    model.set(new Uint8Array(m.data.buffer, m.data.byteOffset + (i * S + r) * w * 4, n * w * 4), dataOffset + r * w * 4);
  }
  if (m.rangeVersion(i * S, S) > version) return null;
  return { session: await ort.InferenceSession.create(model, options), version };
}

/**
 * Scores queries against a segment's rows in one run of its batched graph: queries are
 * zero-padded to the row width (so the product is the prefix product), row lists padded to the
 * longest and the padding masked to -Inf. Indices returned are positions in each query's `local`.
 */
export async function runSegment(session: ort.InferenceSession, width: number, d: number, items: SegmentQuery[]): Promise<TopK[]> {
  const B = items.length;
  let L = 0;
  let kMax = 0;
  for (const it of items) {
    L = Math.max(L, it.local.length);
    kMax = Math.max(kMax, Math.min(it.k, it.local.length));
  }
  const Q = new Float32Array(B * width);
  const I = new Int32Array(B * L);
  const S = new Float32Array(B * L);
  const P = new Float32Array(B * L);
  items.forEach((it, b) => {
    Q.set(it.query.subarray(0, d), b * width);
    I.set(it.local, b * L);
    S.set(it.scale.subarray(0, it.local.length), b * L);
    P.fill(-Infinity, b * L + it.local.length, (b + 1) * L);
  });
  const out = await session.run({
    Q: new ort.Tensor('float32', Q, [B, width, 1]),
    I: new ort.Tensor('int32', I, [B, L]),
    S: new ort.Tensor('float32', S, [B, L]),
    P: new ort.Tensor('float32', P, [B, L]),
    K: new ort.Tensor('int64', BigInt64Array.of(BigInt(kMax)), [1]),
  });
  return unpack(out, B, kMax).map((t, b) => {
    const kk = Math.min(items[b].k, items[b].local.length);
    return kk === kMax ? t : { indices: t.indices.slice(0, kk), scores: t.scores.slice(0, kk) };
  });
}

/** Releases sessions off the caller's path (ORT's release is asynchronous) and counts those not yet released. */
export class SessionReleaser {
  /** Sessions created (the caller counts them in) and not yet released. */
  open = 0;
  private readonly releasing = new Set<Promise<void>>();

  release(session: ort.InferenceSession): void {
    const p: Promise<void> = session
      .release()
      .catch(() => {})
      .finally(() => {
        this.open--;
        this.releasing.delete(p);
      });
    this.releasing.add(p);
  }

  /** Resolves once every release begun, and any begun meanwhile, has finished. */
  async settled(): Promise<void> {
    while (this.releasing.size) await Promise.all([...this.releasing]);
  }
}
