/**
 * The device-resident segments of one matrix (resident-segments.ts keeps one of these per
 * matrix): the sessions baked from it, the segments wanted for a (re)build, the back-offs after
 * failures, and the tests of which segments are full and current.
 */
import type { RerankMatrix } from '../kernel.js';
import type { Segment, SessionReleaser } from './resident-segment.js';

/** After a failed build or run, a segment is not wanted again for this long. */
export const FAILURE_BACKOFF_MS = 60_000;

export class MatrixSegments {
  readonly ref: WeakRef<RerankMatrix>;
  /** Baked sessions, by segment number. */
  readonly segments = new Map<number, Segment>();
  /** Segments wanted: the stamp each had when last seen, and since when it has held. */
  readonly pending = new Map<number, { stamp: number; since: number }>();
  /** When each segment's build or run last failed. */
  readonly failedAt = new Map<number, number>();
  lastUsed = 0;

  /** rows: slots per segment, a multiple of the matrix's blockRows. */
  constructor(
    m: RerankMatrix,
    readonly rows: number,
    private readonly sessions: SessionReleaser,
  ) {
    this.ref = new WeakRef(m);
  }

  /** Whether segment i lies wholly within the slots m uses (the growing tail does not). */
  full(m: RerankMatrix, i: number): boolean {
    return (i + 1) * this.rows <= m.size;
  }

  /** The largest stamp over segment i's blocks: the matrix version of its last write. */
  stamp(m: RerankMatrix, i: number): number {
    return m.rangeVersion(i * this.rows, this.rows);
  }

  /** Whether rows of segment i copied at `version` still equal m's: it is full and none of its slots was written since. */
  current(m: RerankMatrix, i: number, version: number): boolean {
    return this.full(m, i) && this.stamp(m, i) <= version;
  }

  /** Whether a segment failed within the back-off. */
  backingOff(now: number): boolean {
    return [...this.failedAt.values()].some((t) => now - t < FAILURE_BACKOFF_MS);
  }

  /** Bytes of rows its sessions hold. */
  get bytes(): number {
    let bytes = 0;
    for (const seg of this.segments.values()) bytes += seg.bytes;
    return bytes;
  }

  /** Stops using segment i's session; it is released once the reranks holding it finish. */
  retire(i: number): void {
    const seg = this.segments.get(i);
    if (!seg) return;
    this.segments.delete(i);
    seg.retired = true;
    if (seg.users === 0) this.sessions.release(seg.session);
  }
}
