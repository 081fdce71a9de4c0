import { f4, mflops, minutes, ms, ratio, table } from './markdown.js';
import type { ClassificationFigures, PaperResults, RetrievalFigures, RetrievalPoint } from './types.js';
import { points, withinTolerance } from './verdicts.js';

function chartLink(files: string[], name: string, alt: string): string {
  const f = files.find((x) => x.endsWith(name));
  return f ? `![${alt}](${f})` : '';
}

function pointRow(p: RetrievalPoint, exact: RetrievalPoint, first: string[]): string[] {
  return [
    ...first,
    f4(p.mapAt10),
    p === exact ? '–' : points(p.mapAt10 - exact.mapAt10),
    f4(p.recallAt10VsExact),
    ms(p.latencyMs.p50),
    ms(p.latencyMs.p99),
    mflops(p.flopsPerQuery),
    p === exact ? '1×' : ratio(exact.flopsPerQuery / p.flopsPerQuery),
    p === exact ? '1×' : ratio(exact.latencyMs.p50 / p.latencyMs.p50),
  ];
}

const POINT_HEAD = [
  'mAP@10',
  'Δ vs exact (points)',
  'recall@10 vs exact',
  'p50 ms',
  'p99 ms',
  'MFLOPs / query',
  'FLOPs saved',
  'p50 speed-up',
];

export function retrievalSection(r: RetrievalFigures, files: string[]): string {
  const rows = [
    pointRow(r.exact, r.exact, ['exact (brute force)', '–']),
    ...[...r.adaptive]
      .sort((a, b) => a.indexDims - b.indexDims || (a.shortlist ?? 0) - (b.shortlist ?? 0))
      .map((p) => pointRow(p, r.exact, [`${p.indexDims} → ${p.rerankDims}`, String(p.shortlist)])),
    ...r.hnswFull.map((p) => pointRow(p, r.exact, [`HNSW at ${r.exact.rerankDims ?? 512}, single stage`, `ef ${p.shortlist}`])),
  ];
  const pd = r.perDimExact.map((p) => [
    String(p.dims),
    f4(p.mapAt10 ?? undefined),
    f4(p.top1 ?? undefined),
    f4(p.recallAt10VsExact),
    ms(p.latencyMs.p50),
  ]);
  const idx = [...new Map(r.adaptive.concat(r.hnswFull).map((p) => [p.indexDims, p.indexBytes ?? 0])).entries()].sort(
    (a, b) => a[0] - b[0],
  );
  return `## (b) Adaptive retrieval through the server's search path

**Method.** The 512-d MRL embeddings of the ${r.database.toLocaleString('en')} training images are upserted (\`Engine.upsert\`, batches of 1000) into a
collection \`${r.collection}\` of an engine opened on a temporary data dir (\`Engine.open\` with the \`auto\` kernel of
\`src/compute/kernel.ts\`: ${r.kernel}, 2 threads, plain JS for tiny calls): dim 512, index at 32 dims, rerank and
resident matrix at 512, HNSW M = ${r.hnsw.m}, efConstruction = ${r.hnsw.efConstruction}. Ingest took ${minutes(r.ingestMs)}. The ${r.queries.toLocaleString('en')} test
embeddings go into a second collection that serves as the query set (\`queries: { collection: 'fashion-test' }\`).
\`sweep\` (\`src/eval/sweep.ts\`) sends every query, one at a time, through \`Engine.search\` — the code behind
\`GET/POST /search\`, without HTTP — for each configuration: a shortlist of **K** from an HNSW index
over the first **D_s** dims (the collection's own index at 32; temporary indexes at 8 and 16, built by the sweep from
the resident rows; beam ef = max(${r.hnsw.efSearch}, K)), reranked exactly at **D = 512** from the resident matrix, top 10.
Ground truth is exact brute force at 512 over the same matrix and kernels (\`{ exact: true }\`); recall@10 is
|top 10 ∩ exact top 10| / 10 and mAP@10 is the paper's formula with the query's class. "FLOPs saved" and "p50
speed-up" are exact's FLOPs and p50 divided by the row's. The last rows are a reference: one HNSW graph over the
full 512-d vectors, searched alone with beam ef (no rerank).

Command: \`npm run paper\` (\`-- --parts b\` runs (b) and (c) alone: ${minutes(r.ms)} in this run).

${table(['D_s → D', 'K', ...POINT_HEAD], rows)}

${readingNote(r)}

(The exact pass ran twice, once per sweep: p50 ${ms(r.exact.latencyMs.p50)} and ${ms(r.exactRepeat.latencyMs.p50)} ms.)
Index memory: ${idx.map(([d, b]) => `${d} dims ${(b / 1e6).toFixed(1)} MB`).join(', ')}; the resident 512-d matrix is ${((r.database * 512 * 4) / 1e6).toFixed(0)} MB.

${chartLink(files, 'adaptive-retrieval-flops.svg', 'mAP@10 vs FLOPs per query')}

${chartLink(files, 'adaptive-retrieval-recall.svg', 'recall@10 vs FLOPs per query')}

${chartLink(files, 'adaptive-retrieval-latency.svg', 'mAP@10 vs p50 latency')}

Exact search at each nesting dim through the same path (a cross-check of (a)'s MRL column, which was computed
with tf.js; ties may break differently):

${table(['dims', 'mAP@10', '1-NN (top-1)', 'recall@10 vs exact 512', 'p50 ms'], pd)}
`;
}

/** What the table says about the fastest paths within tolerance (from the figures). */
function readingNote(r: RetrievalFigures): string {
  const ok = (p: RetrievalPoint) => withinTolerance(p, r.exact) && p.recallAt10VsExact >= 0.99;
  const fastest = (ps: RetrievalPoint[]) =>
    ps.filter(ok).reduce<RetrievalPoint | null>((a, b) => (a === null || b.latencyMs.p50 < a.latencyMs.p50 ? b : a), null);
  const a = fastest(r.adaptive);
  const h = fastest(r.hnswFull);
  const parts: string[] = [];
  if (a)
    parts.push(
      `The fastest shortlist path within 0.1 point of exact mAP@10 and with recall@10 ≥ 0.99 is D_s = ${a.indexDims}, K = ${a.shortlist}: p50 ${ms(a.latencyMs.p50)} ms, ${mflops(a.flopsPerQuery)} MFLOPs, a ${((a.indexBytes ?? 0) / 1e6).toFixed(1)} MB index.`,
    );
  if (h) {
    parts.push(
      `The single-stage HNSW over the full vectors gets there at ef ${h.shortlist}: p50 ${ms(h.latencyMs.p50)} ms, ${mflops(h.flopsPerQuery)} MFLOPs (estimated), a ${((h.indexBytes ?? 0) / 1e6).toFixed(1)} MB index.`,
    );
    if (a)
      parts.push(
        a.latencyMs.p50 <= h.latencyMs.p50
          ? 'On this collection the prefix shortlist is at least as fast, with a much smaller graph.'
          : `On this collection (60k vectors of 512 dims) the full-D graph is faster per query. The prefix graph is ${((h.indexBytes ?? 0) / Math.max(1, a.indexBytes ?? 1)).toFixed(0)}× smaller, but the rerank also keeps the ${((r.database * 512 * 4) / 1e6).toFixed(0)} MB resident matrix, so in memory the two are close here; docs/design.md's measurements put the prefix path's advantage in build time and in larger D, where a full-D graph pays D per distance.`,
      );
  }
  return parts.join(' ');
}

export function funnelSection(r: RetrievalFigures): string {
  const rows = [
    pointRow(r.exact, r.exact, ['exact (brute force at 512)', '–']),
    ...r.funnel.map((p) =>
      pointRow(p, r.exact, [
        p.funnel ? p.funnel.map((s) => `${s.dims}:${s.keep}`).join(' → ') : p.label,
        p.indexDims ? `HNSW at ${p.indexDims}` : 'exact scan at 16',
      ]),
    ),
  ];
  return `## (c) The paper's funnel

**Method.** \`paperFunnel(512)\` (\`src/search/funnel-spec.ts\`, the paper's section 4.3 cascade with D = 512): keep 200 at
16 dims, then rerank the survivors at 32 → 100, 64 → 50, 128 → 25, 256 → 10 and 512 → 10, each stage exact on the
previous stage's survivors from the resident matrix. Its first stage either reads a 16-d HNSW index (ef = 200) or
scans all 16-d prefixes exactly. Same engine, collections, queries and ground truth as (b).

${table(['funnel (dims:keep)', 'first stage', ...POINT_HEAD], rows)}
${funnelNote(r)}`;
}

/** Why the funnel's recall can be low while its mAP@10 is not (from the figures). */
function funnelNote(r: RetrievalFigures): string {
  const p = r.funnel[0];
  if (!p || p.recallAt10VsExact >= 0.95) return '';
  const at256 = r.perDimExact.find((d) => d.dims === 256);
  return `
Its recall@10 against exact 512-d search is only ${f4(p.recallAt10VsExact)} although its mAP@10 is within ${Math.abs((p.mapAt10 - r.exact.mapAt10) * 100).toFixed(2)} point:
the funnel keeps 10 candidates at 256 dims, so the last stage only reorders the 256-d top 10${at256 ? ` (exact 256-d search alone has recall@10 ${f4(at256.recallAt10VsExact)} against 512-d, and mAP@10 ${f4(at256.mapAt10 ?? undefined)})` : ''}.
The neighbours it swaps are mostly of the same class, so the label figures barely move. The paper reports accuracy only.
`;
}

export function classificationSection(c: ClassificationFigures, files: string[]): string {
  const fixed = new Map(c.fixedHeads.map((h) => [h.dims, h.accuracy]));
  const heads = c.mrlHeads.map((h) => [String(h.dims), f4(h.accuracy), f4(fixed.get(h.dims))]);
  const flops = new Map(c.headFlops.map((h) => [h.threshold, h.meanHeadFlops]));
  const sweep = c.cascade.map((p) => [
    String(p.threshold),
    f4(p.accuracy),
    p.meanDims.toFixed(1),
    ratio(c.mrlHeads[c.mrlHeads.length - 1].dims / p.meanDims),
    String(Math.round(flops.get(p.threshold) ?? 0)),
  ]);
  const targets = c.targets.map((t) => [
    t.name,
    f4(t.accuracy),
    t.point ? String(t.point.threshold) : '–',
    t.point ? f4(t.point.accuracy) : 'not reached',
    t.point ? t.point.meanDims.toFixed(1) : '–',
    ratio(t.ratio),
  ]);
  return `## (d) Adaptive classification

**Method.** The MRL model's seven linear heads (one per nesting dim, trained with it) give softmax probabilities for
each of the ${c.examples.toLocaleString('en')} test embeddings (\`classifyAtDim\`, \`src/encoders/image-encoder.ts\`). The cascade
(\`src/eval/classify.ts\`, the paper's section 4.2.2) predicts with the 8-dim head and moves to the next head while the
top probability is not above the threshold; the 512-dim head always answers. Each threshold gives one point:
accuracy against the mean dims of the head that answered (the paper's "expected representation size"). Alongside:
each MRL head alone, and each fixed-feature model's own head on its own embeddings.

Command: \`npm run paper\` (\`-- --parts d\` alone: ${minutes(c.ms)} in this run).

${table(['dims', 'MRL head alone', 'FF model at this dim'], heads)}

${table(['threshold', 'cascade accuracy', 'mean dims', '512 / mean dims', 'head FLOPs / query'], sweep)}

${chartLink(files, 'adaptive-classification.svg', 'Adaptive classification')}

Cheapest cascade setting that reaches a target accuracy ("× smaller" = 512 / mean dims):

${table(['target', 'accuracy', 'threshold', 'cascade accuracy', 'mean dims', '× smaller'], targets, ['l', 'r', 'r', 'r', 'r', 'r'])}
`;
}

export function costSection(res: PaperResults): string {
  const t = res.timings;
  const phases = Object.entries(t)
    .filter(([k]) => k !== 'total')
    .map(([k, v]) => [k, minutes(v)]);
  phases.push(['**total**', `**${minutes(t.total ?? 0)}**`]);
  const c = res.classification;
  const lat = c
    ? c.latency.map((l) => [
        l.what,
        l.meanDims ? l.meanDims.toFixed(1) : '–',
        ms(l.latencyMs.p50),
        ms(l.latencyMs.p99),
        ms(l.latencyMs.mean),
      ])
    : [];
  const sample = c?.latency[0]?.sample ?? 0;
  return `## (e) Latency and FLOPs

**How FLOPs are counted.** 2 per multiply-add of a similarity or a head, nothing else (normalisation, top-k
selection, graph bookkeeping, softmax are not counted):
- exact search at d dims over N rows: 2·N·d (${res.database.toLocaleString('en')} × 512 → ${mflops(2 * res.database * 512)} MFLOPs per query);
- a rerank of K candidates at d dims: 2·K·d;
- an HNSW stage at d dims with beam ef: estimated as ef expanded nodes × 2M level-0 neighbours × 2·d
  (\`src/eval/flops.ts\`; hnswlib does not count its distance computations, so this is an upper bound);
- a classification head at m dims: 2·m·C (C = 10 classes); the cascade pays every head up to the one that answers;
- the encoder (not part of the retrieval figures: both sides have the query's embedding): ${c ? mflops(c.flops.encoder) : '–'} MFLOPs per image.

**How latency is measured.** Wall clock per query with \`performance.now()\`, one query at a time (one client), in
this process, on the shared 2-core machine: retrieval through \`Engine.search\` (sections b, c; the tables there);
classification as a server would answer one request: the encoder on one image (tf.js wasm), then the heads one
call of \`classifyAtDim\` at a time${c ? ` (the first ${(c.latency[0]?.sample ?? 0).toLocaleString('en')} test images, after 20 warm-up calls)` : ''}.

${c ? table(['classification, per query', `mean dims (on the ${sample.toLocaleString('en')} timed images)`, 'p50 ms', 'p99 ms', 'mean ms'], lat) : ''}

${
  c
    ? `On this model each head call costs about as much as the next (${ms(c.latency[1]?.latencyMs.p50)} ms for the 512-d head alone): the
time is tf.js's per-call overhead, not arithmetic (a 512-d head is ${((2 * 512 * c.numClasses) / 1000).toFixed(0)} kFLOPs, the encoder ${mflops(c.flops.encoder)} MFLOPs), so a
cascade that calls several heads is slower than the 512-d head alone even when its mean dims are small.`
    : ''
}

Wall time of each phase of this run:

${table(['phase', 'time'], phases)}
`;
}
