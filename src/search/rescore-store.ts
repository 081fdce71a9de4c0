import type { StageContext } from './stage-context.js';
import type { Scored } from './sources.js';

/** Rows read from SQLite per kernel call when reranking beyond the resident width. */
const STORE_CHUNK = 2048;
/**
 * Up to this many products (rows × dims) a chunk is scored here, in one float64 pass for each
 * row's dot product and prefix norm, instead of gathered and sent to the kernel: a refine's few
 * dozen rows cost less than a kernel call's overhead and the gather's copy (see README, refine).
 */
const INLINE_MACS = 65_536;

type Best = { seq: number; score: number }[];

/**
 * Candidates scored at `dims` from the store's full vectors (dims beyond the resident width, and
 * the refine stage), best `keep` first, exact cosines. Read in chunks of few `IN` queries, each
 * chunk's top merged into a running top (a stable sort keeps the earlier candidate first on equal
 * scores, as one call would). `found`: how many of `seqs` the store still held.
 */
export async function rescoreFromStore(ctx: StageContext, seqs: number[], dims: number, keep: number): Promise<Scored & { found: number }> {
  let best: Best = [];
  let found = 0;
  for (let i = 0; i < seqs.length; i += STORE_CHUNK) {
    const part = seqs.slice(i, i + STORE_CHUNK);
    const rows = ctx.vectors.vectorsBySeqs(part);
    found += rows.size;
    if (rows.size === 0) continue;
    if (rows.size * dims <= INLINE_MACS) scoreHere(ctx.prefix(dims), part, rows, dims, best);
    else await scoreOnKernel(ctx, part, rows, dims, keep, best);
    if (best.length > keep) best = best.sort((a, b) => b.score - a.score).slice(0, keep);
  }
  best.sort((a, b) => b.score - a.score);
  return { seqs: best.map((b) => b.seq), scores: best.map((b) => b.score), found };
}

/** Every row's cosine with `q` at `dims`, pushed to `best` in the order of `part`. */
function scoreHere(q: Float32Array, part: number[], rows: Map<number, Float32Array>, dims: number, best: Best): void {
  for (const seq of part) {
    const v = rows.get(seq);
    if (!v) continue;
    let dot = 0;
    let nn = 0;
    for (let j = 0; j < dims; j++) {
      const x = v[j];
      dot += q[j] * x;
      nn += x * x;
    }
    best.push({ seq, score: nn > 0 ? dot / Math.sqrt(nn) : 0 });
  }
}

/** The chunk gathered into one block with 1/||row[0:dims]||, its top `keep` from the kernel pushed to `best`. */
async function scoreOnKernel(
  ctx: StageContext,
  part: number[],
  rows: Map<number, Float32Array>,
  dims: number,
  keep: number,
  best: Best,
): Promise<void> {
  const live: number[] = [];
  const block = new Float32Array(part.length * dims);
  const scale = new Float32Array(part.length);
  for (const seq of part) {
    const v = rows.get(seq);
    if (!v) continue;
    let nn = 0;
    for (let j = 0; j < dims; j++) nn += v[j] * v[j];
    block.set(v.subarray(0, dims), live.length * dims);
    scale[live.length] = nn > 0 ? 1 / Math.sqrt(nn) : 0;
    live.push(seq);
  }
  const n = live.length;
  const [top] = await ctx.kernel.topK(
    ctx.prefix(dims),
    1,
    block.subarray(0, n * dims),
    n,
    dims,
    dims,
    scale.subarray(0, n),
    Math.min(keep, n),
  );
  top.indices.forEach((idx, j) => best.push({ seq: live[idx], score: top.scores[j] }));
}
