import type { MethodId, PaperResults, PerDimRow, RetrievalFigures, RetrievalPoint } from './types.js';

/**
 * The checks of "Where we agree or disagree with the paper", computed from the figures so that
 * the text of docs/results.md follows the numbers of the run that wrote it.
 */

/** docs/design.md's reading of the MRL paper (ImageNet-1K, ResNet-50): mAP@10 in %, MRL vs fixed-feature. */
export const PAPER_MAP10: { dims: number; mrl: number; ff: number }[] = [
  { dims: 8, mrl: 56.8, ff: 53.5 },
  { dims: 16, mrl: 63.0, ff: 61.8 },
  { dims: 32, mrl: 64.2, ff: 63.3 },
  { dims: 128, mrl: 65.0, ff: 62.3 },
  { dims: 2048, mrl: 65.2, ff: 63.0 },
];
export const PAPER_FLOPS_RATIO = 128;
export const PAPER_WALL_RATIO = 14;
export const PAPER_CASCADE_RATIO = 14;
/** "Within 0.1": 0.1 percentage point of mAP@10, i.e. |Δ| ≤ 0.001 on the 0..1 scale. */
export const MATCH_TOLERANCE = 0.001;

export interface DimDiff {
  dims: number;
  mrl: number;
  other: number;
  diff: number;
}

export function rowsOf(res: PaperResults, id: MethodId): PerDimRow[] {
  return res.perDim.find((m) => m.id === id)?.rows ?? [];
}

/** MRL minus another method at each dim both have. */
export function mrlVs(res: PaperResults, other: MethodId, metric: 'mapAt10' | 'knn1' | 'mapAt10Hits'): DimDiff[] {
  const o = new Map(rowsOf(res, other).map((r) => [r.dims, r[metric]]));
  return rowsOf(res, 'mrl')
    .filter((r) => o.has(r.dims))
    .map((r) => ({ dims: r.dims, mrl: r[metric], other: o.get(r.dims) as number, diff: r[metric] - (o.get(r.dims) as number) }));
}

export interface ExactMatch {
  indexDims: number;
  /** The cheapest shortlist K at this D_s whose mAP@10 is within MATCH_TOLERANCE of exact. */
  point: RetrievalPoint | null;
  /** The most accurate point at this D_s (for when none matches). */
  closest: RetrievalPoint;
  flopsRatio: number | null;
  wallRatio: number | null;
}

export function withinTolerance(p: RetrievalPoint, exact: RetrievalPoint, tol = MATCH_TOLERANCE): boolean {
  return Math.abs(p.mapAt10 - exact.mapAt10) <= tol;
}

export function exactMatches(r: RetrievalFigures, tol = MATCH_TOLERANCE): ExactMatch[] {
  const dims = [...new Set(r.adaptive.map((p) => p.indexDims))].sort((a, b) => a - b);
  return dims.map((ds) => {
    const pts = r.adaptive.filter((p) => p.indexDims === ds).sort((a, b) => (a.shortlist ?? 0) - (b.shortlist ?? 0));
    const point = pts.find((p) => withinTolerance(p, r.exact, tol)) ?? null;
    const closest = pts.reduce((a, b) => (Math.abs(b.mapAt10 - r.exact.mapAt10) < Math.abs(a.mapAt10 - r.exact.mapAt10) ? b : a));
    return {
      indexDims: ds,
      point,
      closest,
      flopsRatio: point ? r.exact.flopsPerQuery / point.flopsPerQuery : null,
      wallRatio: point ? r.exact.latencyMs.p50 / point.latencyMs.p50 : null,
    };
  });
}

/** "at 8, 16 and 32" */
export function listDims(dims: number[]): string {
  if (dims.length === 0) return 'none';
  if (dims.length === 1) return String(dims[0]);
  return `${dims.slice(0, -1).join(', ')} and ${dims[dims.length - 1]}`;
}

/** A signed difference in percentage points: "+0.81" / "−0.52". */
export function points(diff: number, digits = 2): string {
  const s = Math.abs(diff * 100).toFixed(digits);
  if (Number(s) === 0) return `±${s}`;
  return `${diff < 0 ? '−' : '+'}${s}`;
}

/** One sentence on MRL against a baseline, from per-dim differences. */
export function sentenceVs(diffs: DimDiff[], name: string, metric: string): string {
  if (diffs.length === 0) return `No figures for ${name} (models missing).`;
  const ahead = diffs.filter((d) => d.diff >= 0);
  const behind = diffs.filter((d) => d.diff < 0);
  const range = (ds: DimDiff[]) => {
    const v = ds.map((d) => d.diff);
    const lo = Math.min(...v);
    const hi = Math.max(...v);
    return lo === hi ? `${points(lo)} points` : `${points(lo)} to ${points(hi)} points`;
  };
  if (behind.length === 0) return `MRL ≥ ${name} in ${metric} at every dim (${range(ahead)}).`;
  if (ahead.length === 0) return `MRL < ${name} in ${metric} at every dim (${range(behind)}).`;
  return `MRL ≥ ${name} in ${metric} at ${listDims(ahead.map((d) => d.dims))} (${range(ahead)}) and below it at ${listDims(behind.map((d) => d.dims))} (${range(behind)}).`;
}
