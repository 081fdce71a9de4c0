import { boldMax, f4, minutes, table } from './markdown.js';
import { agreeSection } from './agree-section.js';
import { classificationSection, costSection, funnelSection, retrievalSection } from './results-sections.js';
import type { MethodId, PaperResults, PerDimRow } from './types.js';
import { PAPER_MAP10, points, rowsOf } from './verdicts.js';

export interface ChartRef {
  file: string;
  title: string;
}

const METHOD_ORDER: MethodId[] = ['mrl', 'mrl-e', 'ff', 'ff512-trunc', 'svd'];

function chart(charts: ChartRef[], file: string): string {
  const c = charts.find((x) => x.file.endsWith(`/${file}`) || x.file === file);
  return c ? `![${c.title}](${c.file})` : '';
}

function perDimTable(res: PaperResults, pick: (r: PerDimRow) => number): string {
  const methods = METHOD_ORDER.map((id) => res.perDim.find((m) => m.id === id)).filter((m) => m !== undefined && m.rows.length > 0);
  const dims = [...new Set(methods.flatMap((m) => m!.rows.map((r) => r.dims)))].sort((a, b) => a - b);
  const rows = dims.map((d) => [
    String(d),
    ...boldMax(
      methods.map((m) => {
        const r = m!.rows.find((x) => x.dims === d);
        return r ? pick(r) : undefined;
      }),
      f4,
    ),
  ]);
  return table(['dims', ...methods.map((m) => m!.name)], rows);
}

function header(res: PaperResults): string {
  const totalRun = res.timings.total ?? 0;
  const trained = res.models.filter((m) => m.trainedNow).map((m) => m.name);
  return `# The MRL paper's comparisons, reproduced on Fashion-MNIST

Written by \`npm run paper\` (\`scripts/paper.ts\`${res.quick ? ', **--quick**' : ''}) on ${res.createdAt.slice(0, 10)}. Everything below —
tables, charts (\`docs/results/*.svg\`, drawn by \`src/report/svg-chart.ts\`) and the raw figures
(\`docs/results/results.json\`) — comes from that one run: **${res.queries.toLocaleString('en')} test images as queries against the
${res.database.toLocaleString('en')} training images**, exact figures computed per query. The paper (Kusupati et al., *Matryoshka
Representation Learning*, NeurIPS 2022) measured ImageNet-1K with ResNet-50; here the encoder is the
project's 2-layer MLP (docs/fashion-mrl.md), so the question is which of its claims carry over, not
whether its numbers do.

- **Machine**: ${res.machine.cpus} cores (${res.machine.cpuModel}), Node ${res.machine.node}, TF.js on the ${res.machine.tfBackend} backend
  (single-threaded), load average ${res.machine.loadAvgStart.map((x) => x.toFixed(2)).join(' / ')} at the start. The machine is
  shared: **latencies are indicative**; FLOPs and quality figures are exact and repeatable.
- **Run time**: ${minutes(totalRun)} for this run${trained.length ? ` (of which training ${trained.join(', ')}: ${minutes(res.timings.train ?? 0)})` : ', models already trained'}${res.perDim.some((m) => m.cached) ? ', part of (a) from the cache' : ''}.
  Embeddings and the kNN figures of (a) are cached under \`data/paper/cache\`, so a rerun over the same model files
  repeats only (b)–(e) (\`--fresh\` recomputes everything).
  On a fresh machine the script installs Fashion-MNIST (\`scripts/install-fashion-mnist.sh\`) and trains the
  eight baselines it needs (about an hour on 2 cores).
- **One seed per model** (seed 1). Differences of a few tenths of a point between models may be seed noise;
  the seed-to-seed spread was not measured.

Contents: [(a) quality per dim](#a-retrieval-quality-per-dim) · [(b) adaptive retrieval](#b-adaptive-retrieval-through-the-servers-search-path) ·
[(c) funnel](#c-the-papers-funnel) · [(d) adaptive classification](#d-adaptive-classification) · [(e) cost](#e-latency-and-flops) ·
[agree or disagree](#where-we-agree-or-disagree-with-the-paper)
`;
}

function modelsSection(res: PaperResults): string {
  const what: Record<string, string> = {
    mrl: 'MRL loss, heads at 8…512 (the shipped model)',
    'mrl-e': 'MRL-E: one shared 512×10 head, head m = its first m rows',
  };
  const rows = res.models.map((m) => [
    m.name,
    what[m.name] ?? `fixed-feature: a ${m.name.slice(3)}-d embedding layer, one head`,
    `\`${m.dir}\``,
    `\`${m.weightsSha256.slice(0, 12)}\``,
  ]);
  return `## Models

All nine share the architecture and the training recipe of the shipped model (docs/fashion-mrl.md): pixels/255 →
dense 512 ReLU → dense D (the embedding), Adam 1e-3 with cosine decay, batch 256, **10 epochs, seed 1**, the full 60k
training set. Only the embedding width and the loss differ.

${table(['model', 'what', 'directory', 'sha256 (model.json + weights.bin)'], rows, ['l', 'l', 'l', 'l'])}

A missing baseline is trained by the script with the same command the shipped model was trained with, plus its flag:

\`\`\`sh
node --import tsx src/cli.ts train --data /usr/share/datasets/fashion-mnist --out data/paper/runs/mrl-e --epochs 10 --seed 1 --skip-eval --quiet --efficient --name fashion-mrl-e
node --import tsx src/cli.ts train --data /usr/share/datasets/fashion-mnist --out data/paper/runs/ff-64 --epochs 10 --seed 1 --skip-eval --quiet --fixed 64 --name ff-64   # and 8 … 512
\`\`\`
`;
}

function cachedNote(res: PaperResults): string {
  const cached = res.perDim.filter((m) => m.cached).map((m) => m.name);
  return cached.length
    ? `; the figures of ${cached.join(', ')} came from the cache of an earlier run over the same model files`
    : '; nothing from the cache';
}

function perDimSection(res: PaperResults, charts: ChartRef[]): string {
  const svd = res.svdExplained?.length
    ? `\nVariance of the FF-512 training embeddings kept by the top m principal axes: ${res.svdExplained.map((e) => `${e.dims}: ${(e.fraction * 100).toFixed(1)} %`).join(', ')}.\n`
    : '';
  const missing = res.perDim.filter((m) => m.missingDims.length > 0).map((m) => `${m.name} (dims ${m.missingDims.join(', ')})`);
  const paperRows = PAPER_MAP10.map((p) => [String(p.dims), p.mrl.toFixed(1), p.ff.toFixed(1), points((p.mrl - p.ff) / 100, 1)]);
  const ours = rowsOf(res, 'mrl');
  const ff = new Map(rowsOf(res, 'ff').map((r) => [r.dims, r.mapAt10]));
  const ourRows = ours
    .filter((r) => ff.has(r.dims))
    .map((r) => [
      String(r.dims),
      (r.mapAt10 * 100).toFixed(1),
      ((ff.get(r.dims) as number) * 100).toFixed(1),
      points(r.mapAt10 - (ff.get(r.dims) as number), 1),
    ]);
  return `## (a) Retrieval quality per dim

**Method.** Every model embeds the 60k training images (the database) and the test images (the queries).
For each dim m, both are truncated to their first m values and **then** L2-normalised; each query's 10
nearest database images by cosine are found exactly (one matrix product per chunk of queries, tf.js,
\`knnFigures\` in \`src/train/evaluate.ts\`). **mAP@10** is the paper's formula, \`AP@10 = Σ_j rel_j·P@j / 10\`
(rel_j = 1 when result j has the query's class), averaged over queries; **mAP@10 (hits)** divides by the
number of relevant results instead (\`max(1, Σ rel_j)\`); **1-NN** is the accuracy of the nearest image's class.
Methods: **MRL** (the shipped model, read at each prefix), **MRL-E**, **FF** (a separate fixed-feature model
trained at each dim, read at its full width), **FF-512 truncated** (the fixed-feature 512 model read at its
first m values), and **SVD of FF-512** (the FF-512 embeddings centred with the training mean and projected on
the top m principal axes of the centred training embeddings, i.e. their top m right singular vectors —
\`src/report/svd-baseline.ts\` — then the same exact cosine kNN). Bold: the best of each row.
${missing.length ? `\nMissing (models not trained): ${missing.join('; ')}.\n` : ''}
Command: \`npm run paper\` (\`-- --parts a\` alone: ${minutes(res.timings['per-dim'] ?? 0)} in this run${cachedNote(res)}).

### mAP@10 (paper formula)

${perDimTable(res, (r) => r.mapAt10)}

${chart(charts, 'map10-by-dim.svg')}

### 1-NN accuracy

${perDimTable(res, (r) => r.knn1)}

${chart(charts, 'knn1-by-dim.svg')}

### mAP@10, hit-normalised

${perDimTable(res, (r) => r.mapAt10Hits)}
${svd}
### Next to the paper's figure

mAP@10 in %, MRL vs fixed-feature. The paper's values are read off its figure (ImageNet-1K, ResNet-50; docs/design.md),
ours are the tables above. The paper's largest dim is 2048, ours 512.

${table(['dims', 'paper MRL', 'paper FF', 'paper MRL − FF'], paperRows)}

${table(['dims', 'our MRL', 'our FF', 'our MRL − FF'], ourRows)}
`;
}

/** docs/results.md from the results of one run (pure: the same results give the same text). */
export function resultsMarkdown(res: PaperResults, charts: ChartRef[]): string {
  const parts = [header(res), modelsSection(res), perDimSection(res, charts)];
  if (res.retrieval)
    parts.push(
      retrievalSection(
        res.retrieval,
        charts.map((c) => c.file),
      ),
      funnelSection(res.retrieval),
    );
  if (res.classification)
    parts.push(
      classificationSection(
        res.classification,
        charts.map((c) => c.file),
      ),
    );
  parts.push(costSection(res), agreeSection(res));
  if (res.notes.length) parts.push(`## Notes\n\n${res.notes.map((n) => `- ${n}`).join('\n')}\n`);
  return `${parts
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trimEnd()}\n`;
}
