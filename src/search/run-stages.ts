import { exactScan } from './exact-scan.js';
import type { Stage } from './options.js';
import { withPending } from './pending.js';
import { refineStage } from './refine-stage.js';
import { rescore } from './rescore.js';
import type { StageContext } from './stage-context.js';
import type { Scored } from './sources.js';
import { crowded } from './widen.js';

export interface StageReport {
  dims: number;
  source: Stage['source'];
  candidates: number;
  ms: number;
  /** The shortlist an adaptive first stage widened to (src/search/widen.ts); absent when it did not. */
  widened?: number;
}
export interface Ranked {
  seqs: number[];
  scores: number[];
  stages: StageReport[];
}
/** A first stage run by the caller instead (a filtered search's): `want` candidates at `st.dims`. */
export type FirstStage = (st: Stage, want: number) => Promise<{ seqs: number[]; scores: number[]; candidates: number }>;

/**
 * Runs planned stages for one query. The first stage comes from the prefix index or an exact
 * scan at its prefix (or `first`, which replaces it); with `widen` (and no `first`) it runs again
 * with a doubled shortlist while crowded (widen.ts), its report counting every try. Each later
 * stage rescores the survivors at its dims, from the resident matrix when dims ≤ R and from the
 * store's full vectors otherwise; a final refine stage reads the best few again from the full
 * vectors (only those whose error bound lets them reach the top: refine-stage.ts). Rows committed
 * but not yet in the index join the index stage's candidates by an exact scan (pending.ts).
 * `ctx.exclude` (a query item's own seq) never appears in the output.
 */
export async function runStages(ctx: StageContext, stages: Stage[], first?: FirstStage): Promise<Ranked> {
  const reports: StageReport[] = [];
  let ranked: Scored = { seqs: [], scores: [] };
  for (const st of stages) {
    const t0 = performance.now();
    let candidates: number;
    if (st === stages[0]) {
      let keep = st.keep;
      ({ ranked, candidates } = await firstStage(ctx, st, first));
      const w = first ? undefined : st.widen;
      while (w && keep < w.cap && ranked.seqs.length >= keep && crowded(ranked.scores, w.k, w.ratio)) {
        keep = Math.min(w.cap, keep * 2);
        ({ ranked, candidates } = await firstStage(ctx, { ...st, keep, ...(st.ef !== undefined ? { ef: Math.max(st.ef, keep) } : {}) }));
      }
      reports.push({
        dims: st.dims,
        source: st.source,
        candidates,
        ms: performance.now() - t0,
        ...(keep > st.keep ? { widened: keep } : {}),
      });
      continue;
    }
    candidates = ranked.seqs.length;
    ranked = kept(
      ctx,
      st.source === 'refine' ? await refineStage(ctx, ranked, st.dims, st.keep) : await rescore(ctx, ranked.seqs, st.dims, st.keep),
      st.keep,
    );
    reports.push({ dims: st.dims, source: st.source, candidates, ms: performance.now() - t0 });
  }
  return { seqs: ranked.seqs, scores: ranked.scores, stages: reports };
}

/** The first stage (`st.keep` candidates, without ctx.exclude) and how many candidates it weighed. */
async function firstStage(ctx: StageContext, st: Stage, first?: FirstStage): Promise<{ ranked: Scored; candidates: number }> {
  const want = ctx.exclude === undefined ? st.keep : st.keep + 1;
  if (first) {
    const { seqs, scores, candidates } = await first(st, want);
    return { ranked: kept(ctx, { seqs, scores }, st.keep), candidates };
  }
  if (st.source === 'exact') return { ranked: kept(ctx, await exactScan(ctx, st.dims, want), st.keep), candidates: ctx.source.count };
  const src = ctx.source;
  const q = ctx.prefix(st.dims);
  const found = withPending(src.index.search(q, want, Math.max(st.ef ?? src.record.hnsw.efSearch, want)), src.pending, q, want);
  const candidates = found.seqs.length;
  return { ranked: kept(ctx, found, st.keep), candidates };
}

/** `r` without ctx.exclude, cut to `keep` (in place; its bounds alongside). */
function kept(ctx: StageContext, r: Scored, keep: number): Scored {
  const at = ctx.exclude === undefined ? -1 : r.seqs.indexOf(ctx.exclude);
  if (at >= 0) {
    r.seqs.splice(at, 1);
    r.scores.splice(at, 1);
    r.bounds?.splice(at, 1);
  }
  if (r.seqs.length > keep) {
    r.seqs.length = keep;
    r.scores.length = keep;
    if (r.bounds) r.bounds.length = keep;
  }
  return r;
}
