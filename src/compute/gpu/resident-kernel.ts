/**
 * A Kernel whose reranks over a RerankMatrix use device-resident segments (resident-segments.ts)
 * where they are current, and the wrapped kernel for every other row (the growing tail, segments
 * being written or rebuilt); everything else goes to the wrapped kernel unchanged.
 *
 * A rerank's candidates are split by segment, keeping shortlist order within each part; each part
 * returns its own top k, and the parts are merged on the host by score, ties by shortlist
 * position: the order a single kernel call gives (TopK breaks ties by lower index). Scores
 * agree with it to float rounding (a zero-padded product over the whole row instead of the
 * prefix). A segment whose run fails is retired and its part scored by the wrapped kernel.
 */
import { checkRerankArgs } from '../check-args.js';
import type { Kernel, RerankMatrix, RowsQuery, TopK } from '../kernel.js';
import type { Segment, SegmentQuery } from './resident-segment.js';
import type { ResidentOptions } from './resident-options.js';
import { ResidentSegments } from './resident-segments.js';

/** One part of one query's candidates: the positions (in its shortlist) of the rows scored, and their top k. */
interface Part {
  b: number;
  positions: Int32Array;
  top: TopK;
}

export class ResidentKernel implements Kernel {
  readonly name: string;
  readonly segments: ResidentSegments;
  private readonly inflight = new Set<Promise<unknown>>();
  private closed = false;

  constructor(
    readonly inner: Kernel,
    opts: ResidentOptions,
  ) {
    this.name = inner.name;
    this.segments = new ResidentSegments(opts);
  }

  get resident() {
    return { stats: () => this.segments.stats() };
  }

  topK(...a: Parameters<Kernel['topK']>): Promise<TopK[]> {
    return this.inner.topK(...a);
  }

  /** items[i].rowIdx are slots of `matrix`; result[i] as Kernel.rerank says. */
  rerank(matrix: RerankMatrix, items: RowsQuery[], d: number): Promise<TopK[]> {
    if (this.closed) return Promise.reject(new Error('kernel is closed'));
    const p = this.splitBySegment(matrix, items, d);
    this.inflight.add(p);
    void p.catch(() => {}).finally(() => this.inflight.delete(p));
    return p;
  }

  /** Waits for reranks in flight, releases the segments, closes the wrapped kernel. Safe twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    while (this.inflight.size) await Promise.allSettled([...this.inflight]);
    await this.segments.close();
    await this.inner.close();
  }

  /**
   * Synchronous up to the launches (no await before them): segments are checked and held against
   * the matrix as it is now. async, so bad arguments reject (RangeError) instead of throwing.
   */
  private async splitBySegment(m: RerankMatrix, items: RowsQuery[], d: number): Promise<TopK[]> {
    checkRerankArgs(m, items, d);
    const S = this.segments.segmentRows(m);
    const held = new Map<number, Segment | null>();
    const onDevice = new Map<number, number[][]>(); // segment → per query, positions in its list
    const onHost: number[][] = items.map(() => []);
    items.forEach((it, b) => {
      for (let j = 0; j < it.rowIdx.length; j++) {
        const i = Math.floor(it.rowIdx[j] / S);
        let seg = held.get(i);
        if (seg === undefined) held.set(i, (seg = this.segments.acquire(m, i)));
        if (!seg) {
          onHost[b].push(j);
          continue;
        }
        let lists = onDevice.get(i);
        if (!lists) onDevice.set(i, (lists = items.map(() => [])));
        lists[b].push(j);
      }
    });
    const releaseAll = () => {
      for (const seg of held.values()) if (seg) this.segments.release(seg);
    };
    if (onDevice.size === 0) {
      releaseAll();
      return this.onHost(m, items, d);
    }
    const launches: Promise<Part[]>[] = [];
    for (const [i, lists] of onDevice) launches.push(this.onSegment(m, i, held.get(i)!, items, lists, d));
    if (onHost.some((l) => l.length)) launches.push(this.hostParts(m, items, onHost, d));
    const done = Promise.all(launches);
    void done.finally(releaseAll).catch(() => {});
    return done.then((parts) => merge(items, parts.flat()));
  }

  /** Every row on the host: the wrapped kernel, as without resident segments. */
  private onHost(m: RerankMatrix, items: RowsQuery[], d: number): Promise<TopK[]> {
    return this.inner.rerank(m, items, d);
  }

  private async hostParts(m: RerankMatrix, items: RowsQuery[], lists: number[][], d: number): Promise<Part[]> {
    const sub = subsets(items, lists);
    const tops = await this.onHost(
      m,
      sub.map((s) => s.item),
      d,
    );
    return sub.map((s, x) => ({ b: s.b, positions: s.positions, top: tops[x] }));
  }

  private async onSegment(m: RerankMatrix, i: number, seg: Segment, items: RowsQuery[], lists: number[][], d: number): Promise<Part[]> {
    const sub = subsets(items, lists);
    const base = i * this.segments.segmentRows(m);
    const queries: SegmentQuery[] = sub.map(({ item }) => ({
      query: item.query,
      local: item.rowIdx.map((slot) => slot - base),
      scale: item.rowScale,
      k: item.k,
    }));
    let tops: TopK[];
    try {
      tops = await this.segments.score(seg, m.width, d, queries);
    } catch (err) {
      this.segments.failed(m, i, err);
      tops = await this.onHost(
        m,
        sub.map((s) => s.item),
        d,
      );
    }
    return sub.map((s, x) => ({ b: s.b, positions: s.positions, top: tops[x] }));
  }
}

/** The queries with a share in one part, each cut down to its positions (in shortlist order). */
function subsets(items: RowsQuery[], lists: number[][]): { b: number; positions: Int32Array; item: RowsQuery }[] {
  const out: { b: number; positions: Int32Array; item: RowsQuery }[] = [];
  lists.forEach((list, b) => {
    if (list.length === 0) return;
    const it = items[b];
    const positions = Int32Array.from(list);
    out.push({
      b,
      positions,
      item: {
        query: it.query,
        rowIdx: Int32Array.from(positions, (j) => it.rowIdx[j]),
        rowScale: Float32Array.from(positions, (j) => it.rowScale[j]),
        k: it.k,
      },
    });
  });
  return out;
}

/** Per query: its parts' lists merged by score descending, ties by lower shortlist position, cut to min(k, n). */
function merge(items: RowsQuery[], parts: Part[]): TopK[] {
  const byQuery: Part[][] = items.map(() => []);
  for (const p of parts) byQuery[p.b].push(p);
  return items.map((it, b) => {
    const kk = Math.min(it.k, it.rowIdx.length);
    const mine = byQuery[b];
    if (mine.length === 1) {
      const { positions, top } = mine[0];
      return { indices: top.indices.map((x) => positions[x]).subarray(0, kk), scores: top.scores.subarray(0, kk) };
    }
    const all: { s: number; pos: number }[] = [];
    for (const { positions, top } of mine)
      for (let r = 0; r < top.indices.length; r++) all.push({ s: top.scores[r], pos: positions[top.indices[r]] });
    all.sort((x, y) => y.s - x.s || x.pos - y.pos);
    const n = Math.min(kk, all.length);
    const indices = new Int32Array(n);
    const scores = new Float32Array(n);
    for (let r = 0; r < n; r++) {
      indices[r] = all[r].pos;
      scores[r] = all[r].s;
    }
    return { indices, scores };
  });
}
