/**
 * Device-resident segments of the resident matrix (a RerankMatrix; with MRL_KERNEL=gpu): which
 * segment sessions are current, holding them for reranks, and (re)building them. Each full
 * segment of `segmentRows` consecutive slots is baked into its own ORT session
 * (resident-segment.ts); matrix-segments.ts keeps one matrix's sessions and wanted segments;
 * resident-kernel.ts splits reranks over them and merges the parts; resident-options.ts holds
 * the options and their defaults.
 *
 * A session holds the rows as they were at matrix version V; it is used only while every block
 * of its segment has a stamp ≤ V (RerankMatrix.rangeVersion), i.e. none of its slots was
 * written since. Segments are (re)built off the query path: a rerank that finds a full segment
 * without a current session marks it wanted; a timer builds it once its stamp has not moved for
 * `settleMs`, one at a time, and swaps it in only if the stamp still allows it. Stale sessions
 * are dropped when seen (released once the reranks on them finish), and so are all of a
 * matrix's sessions once it is garbage (held by WeakRef only) or had no rerank for `idleMs`.
 * One session per segment keeps each rebuild to one segment's upload; the price is one launch
 * per segment a shortlist touches (concurrent reranks share them through the batching window).
 *
 * Creating a session blocks the event loop (onnxruntime-node 1.30 loads models synchronously),
 * so timed builds are spaced out: after one that took T, the next waits T·(1/buildShare − 1)
 * (by default builds block at most ~10% of the time); under constant writes, reranks simply
 * stay on the host path.
 */
import type { RerankMatrix, ResidentStats, TopK } from '../kernel.js';
import { FAILURE_BACKOFF_MS, MatrixSegments } from './matrix-segments.js';
import { residentSettings, type ResidentOptions, type ResidentSettings } from './resident-options.js';
import { bakeSegment, runSegment, SessionReleaser, type Segment, type SegmentQuery } from './resident-segment.js';

const SWEEP_MS = 30_000;

export class ResidentSegments {
  private readonly byMatrix = new WeakMap<RerankMatrix, MatrixSegments>();
  private readonly states = new Set<MatrixSegments>();
  private readonly cfg: ResidentSettings;
  private nextBuildAt = 0;
  private timer: NodeJS.Timeout | null = null;
  private timerDue = 0;
  private ticking: Promise<void> | null = null;
  private readonly sessions = new SessionReleaser();
  private closed = false;
  private counts = { builds: 0, runs: 0, failures: 0 };
  private lastError: string | null = null;

  constructor(opts: ResidentOptions) {
    this.cfg = residentSettings(opts);
  }

  /** Rows per segment of this matrix (a multiple of its blockRows); marks the matrix as in use. */
  segmentRows(m: RerankMatrix): number {
    return this.state(m).rows;
  }

  /** The current session of segment i of m, held until release(); null (and the segment wanted) if it has none. */
  acquire(m: RerankMatrix, i: number): Segment | null {
    const state = this.state(m);
    const seg = state.segments.get(i);
    if (!state.full(m, i)) {
      if (seg) state.retire(i); // the matrix shrank below its end
      return null; // not full: the growing tail
    }
    if (seg && state.stamp(m, i) <= seg.version) {
      seg.users++;
      return seg;
    }
    if (seg) state.retire(i); // stale for good: stamps only grow
    this.want(state, m, i, Date.now());
    return null;
  }

  release(seg: Segment): void {
    seg.users--;
    if (seg.retired && seg.users === 0) this.sessions.release(seg.session);
  }

  /** A segment's run failed: stop using it (a later rerank wants it again after a back-off). */
  failed(m: RerankMatrix, i: number, err: unknown): void {
    this.noteFailure(err);
    const state = this.byMatrix.get(m);
    if (!state) return;
    state.retire(i);
    state.failedAt.set(i, Date.now());
  }

  /** Scores queries against one segment (see runSegment). */
  score(seg: Segment, width: number, d: number, items: SegmentQuery[]): Promise<TopK[]> {
    this.counts.runs++;
    return runSegment(seg.session, width, d, items);
  }

  /**
   * Builds now every full segment of m that has no current session (tests, warm-up), without
   * waiting for it to settle; returns how many were swapped in.
   */
  async buildAll(m: RerankMatrix): Promise<number> {
    const state = this.state(m);
    await this.ticking;
    let built = 0;
    for (let i = 0; state.full(m, i) && !this.closed; i++) {
      this.state(m); // in use
      const seg = state.segments.get(i);
      if (seg && state.stamp(m, i) <= seg.version) continue;
      state.pending.delete(i);
      if (await this.build(state, m, i)) built++;
    }
    return built;
  }

  stats(): ResidentStats {
    let segments = 0;
    let bytes = 0;
    let pending = 0;
    for (const s of this.states) {
      const m = s.ref.deref();
      for (const [i, seg] of s.segments) {
        if (!m || !s.current(m, i, seg.version)) continue; // stale, released at the next tick
        segments++;
        bytes += seg.bytes;
      }
      pending += s.pending.size;
    }
    return {
      segments,
      bytes,
      pending,
      sessions: this.sessions.open,
      builds: this.counts.builds,
      runs: this.counts.runs,
      failures: this.counts.failures,
      lastError: this.lastError,
    };
  }

  /** Whether a maintenance timer is set (close() leaves none). */
  get scheduled(): boolean {
    return this.timer !== null;
  }

  /** Stops the timer, waits for a build in progress, releases every session. Reranks must be over. Safe twice. */
  async close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.clearTimer();
      await this.ticking;
      for (const state of [...this.states]) this.evict(state);
    }
    await this.sessions.settled();
  }

  private state(m: RerankMatrix): MatrixSegments {
    let state = this.byMatrix.get(m);
    if (!state) {
      const rows = Math.ceil(this.cfg.segmentRows / m.blockRows) * m.blockRows;
      state = new MatrixSegments(m, rows, this.sessions);
      this.byMatrix.set(m, state);
      this.states.add(state);
    }
    state.lastUsed = Date.now();
    return state;
  }

  private want(state: MatrixSegments, m: RerankMatrix, i: number, now: number): void {
    if (this.closed || state.pending.has(i)) return;
    const failed = state.failedAt.get(i);
    if (failed !== undefined && now - failed < FAILURE_BACKOFF_MS) return;
    state.pending.set(i, { stamp: state.stamp(m, i), since: now });
    this.schedule();
  }

  /** Sets the timer for the next thing to do: the earliest pending segment to settle, else a sweep. */
  private schedule(): void {
    if (this.closed || this.ticking) return;
    const now = Date.now();
    let delay = Infinity;
    for (const s of this.states) {
      if (s.segments.size) delay = Math.min(delay, SWEEP_MS, this.cfg.idleMs);
      for (const p of s.pending.values()) delay = Math.min(delay, Math.max(0, p.since + this.cfg.settleMs - now, this.nextBuildAt - now));
    }
    if (delay === Infinity) return;
    if (this.timer && this.timerDue <= now + delay) return;
    this.clearTimer();
    this.timerDue = now + delay;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.ticking = this.tick().finally(() => {
        this.ticking = null;
        this.schedule();
      });
    }, delay);
    this.timer.unref(); // never keeps the process alive
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Evicts gone or idle matrices, retires stale sessions, builds settled pending segments. */
  private async tick(): Promise<void> {
    for (const state of [...this.states]) {
      if (this.closed) return;
      const m = state.ref.deref();
      if (
        !m ||
        Date.now() - state.lastUsed >= this.cfg.idleMs ||
        (!state.segments.size && !state.pending.size && !state.backingOff(Date.now()))
      ) {
        this.evict(state); // an empty state costs nothing to make again
        continue;
      }
      for (const [i, seg] of [...state.segments]) {
        if (state.current(m, i, seg.version)) continue;
        state.retire(i);
        if (state.full(m, i)) this.want(state, m, i, Date.now());
      }
      for (const [i, p] of [...state.pending]) {
        if (this.closed) return;
        if (!state.full(m, i) || state.segments.has(i)) {
          state.pending.delete(i);
          continue;
        }
        const stamp = state.stamp(m, i);
        if (stamp !== p.stamp) {
          p.stamp = stamp; // still being written: wait for it to settle
          p.since = Date.now();
          continue;
        }
        if (Date.now() - p.since < this.cfg.settleMs || Date.now() < this.nextBuildAt) continue;
        state.pending.delete(i);
        await this.build(state, m, i);
      }
    }
  }

  /** Bakes segment i of m as it is now; swaps it in if no slot of it was written meanwhile. */
  private async build(state: MatrixSegments, m: RerankMatrix, i: number): Promise<boolean> {
    const S = state.rows;
    const bytes = S * m.width * 4;
    let live = 0;
    for (const s of this.states) live += s.bytes;
    if (live - (state.segments.get(i)?.bytes ?? 0) + bytes > this.cfg.maxBytes) return false;
    const t0 = performance.now();
    let baked: Awaited<ReturnType<typeof bakeSegment>>;
    try {
      baked = await bakeSegment(m, i, S, this.cfg.sessionOptions, () => this.closed);
    } catch (err) {
      this.noteFailure(err);
      state.failedAt.set(i, Date.now());
      return false;
    } finally {
      this.nextBuildAt = Date.now() + (performance.now() - t0) * (1 / this.cfg.buildShare - 1);
    }
    if (!baked) return false; // torn by a write, or closing: a later rerank wants it again
    const { session, version } = baked;
    this.sessions.open++;
    this.counts.builds++;
    if (this.closed || !this.states.has(state) || !state.current(m, i, version)) {
      this.sessions.release(session);
      return false;
    }
    state.retire(i);
    state.segments.set(i, { session, version, bytes, users: 0, retired: false });
    state.failedAt.delete(i);
    this.schedule(); // the sweep that releases it once stale or idle
    return true;
  }

  private noteFailure(err: unknown): void {
    this.counts.failures++;
    this.lastError = (err instanceof Error ? err.message : String(err)).split('\n')[0];
  }

  private evict(state: MatrixSegments): void {
    for (const i of [...state.segments.keys()]) state.retire(i);
    state.pending.clear();
    this.states.delete(state);
    const m = state.ref.deref();
    if (m) this.byMatrix.delete(m);
  }
}
