import { paperFunnel } from '../search/funnel-spec.js';
import type { FunnelStep, SearchOptions } from '../search/options.js';
import type { ResidentType } from '../core/quantize.js';
import { mrlError } from '../errors.js';

export interface SweepGrid {
  /** Dims of the first stage's index; each other than the collection's gets a temporary index. */
  indexDims?: number[];
  shortlists?: number[];
  rerankDims?: number[];
  funnels?: FunnelStep[][];
  /** Beam widths for the index stage (default: the shortlist, or the collection's efSearch). */
  efs?: number[];
  /**
   * Refine counts crossed with every non-funnel point (0: no refine stage). Default: none for
   * float32 rows, [0, 2·k, 4·k] for quantised ones (quantize.ts), so the tuner weighs exact
   * scores from the store against the quantised rows' own.
   */
  refines?: number[];
}

/** One point of the grid: the index dims it reads and the search it runs. */
export interface Candidate {
  indexDims: number;
  search: SearchOptions;
  label: string;
}

/** Default shortlists: from small (10: the index's own top 10, reordered at full precision) to large. */
export const DEFAULT_SHORTLISTS = [10, 20, 50, 100, 200, 500, 1000];
const MAX_POINTS = 400;
/** Default refine counts for quantised rows at k = 10: 2·k and 4·k (the search default). */
const DEFAULT_REFINES = [20, 40];

function ints(v: unknown, name: string, lo: number, hi: number): number[] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.length === 0 || v.length > 32) throw mrlError('INVALID_EVAL', `grid.${name} must be a list of 1..32 integers`);
  for (const x of v)
    if (typeof x !== 'number' || !Number.isInteger(x) || x < lo || x > hi)
      throw mrlError('INVALID_EVAL', `grid.${name} values must be integers in ${lo}..${hi}`);
  return [...new Set(v as number[])].sort((a, b) => a - b);
}

/**
 * The grid's points. Defaults reach from short prefixes to the full vector and from small to
 * large shortlists, so the tuner may pick a single full-D index stage when that is cheapest:
 * index dims = the nesting dims from 16 (and D), shortlist K ∈ DEFAULT_SHORTLISTS, rerank at D
 * (at the index dims the rerank is dropped and K is the beam: the full-D single-stage index),
 * the paper's funnel.
 *
 * EXTENSION POINT (resident type): `residentType` is how the collection stores its rows, not a
 * search option, so the grid does not cross it; sweeping it would need a temporary matrix per
 * type, as temporary indexes serve other index dims. `refines` covers the search side.
 */
export function sweepCandidates(dim: number, nesting: number[], grid: SweepGrid = {}, residentType: ResidentType = 'f32'): Candidate[] {
  const indexDims =
    ints(grid.indexDims, 'indexDims', 1, dim) ?? [...new Set([...nesting.filter((d) => d >= 16 && d <= dim), dim])].sort((a, b) => a - b);
  const shortlists = ints(grid.shortlists, 'shortlists', 10, 10_000) ?? DEFAULT_SHORTLISTS;
  const rerankDims = ints(grid.rerankDims, 'rerankDims', 1, dim) ?? [dim];
  const efs = ints(grid.efs, 'efs', 1, 10_000);
  const refines = ints(grid.refines, 'refines', 0, 10_000) ?? (residentType === 'f32' ? [] : [0, ...DEFAULT_REFINES]);
  const out: Candidate[] = [];
  for (const d of indexDims) {
    for (const r of rerankDims.filter((x) => x >= d)) {
      if (r === d) {
        for (const k of efs ?? shortlists) out.push({ indexDims: d, search: { shortlist: k, rerank: r }, label: `index ${d}d, ef ${k}` });
      } else {
        for (const k of shortlists) {
          if (efs)
            for (const ef of efs)
              out.push({ indexDims: d, search: { shortlist: k, rerank: r, ef }, label: `index ${d}d → ${k} → rerank ${r}d, ef ${ef}` });
          else out.push({ indexDims: d, search: { shortlist: k, rerank: r }, label: `index ${d}d → ${k} → rerank ${r}d` });
        }
      }
    }
  }
  if (refines.length) {
    // Each point with each refine count (0: no refine stage).
    const base = out.splice(0);
    for (const c of base)
      for (const r of refines)
        out.push({ ...c, search: { ...c.search, refine: r }, label: `${c.label}, ${r ? `refine ${r}` : 'no refine'}` });
  }
  const funnels = grid.funnels ?? [paperFunnel(dim)];
  if (!Array.isArray(funnels) || funnels.length > 16) throw mrlError('INVALID_EVAL', 'grid.funnels must be a list of at most 16 funnels');
  for (const f of funnels) {
    if (!Array.isArray(f) || f.length === 0) throw mrlError('INVALID_EVAL', 'each funnel must be a non-empty list of {dims, keep}');
    const first = f[0]?.dims;
    const onIndex = typeof first === 'number' && indexDims.includes(first);
    out.push({
      indexDims: onIndex ? first : indexDims[0],
      search: { funnel: f, firstStage: onIndex ? 'index' : 'exact' },
      label: `funnel ${f.map((s) => `${s?.dims}:${s?.keep}`).join('→')}${onIndex ? '' : ' (exact first stage)'}`,
    });
  }
  if (out.length > MAX_POINTS) throw mrlError('INVALID_EVAL', `the grid has ${out.length} points; at most ${MAX_POINTS}`);
  return out;
}
