import { renderChart, type ChartSeries } from './svg-chart.js';
import type { MethodFigures, PaperResults, PerDimRow, RetrievalPoint } from './types.js';

export interface ChartFile {
  file: string;
  title: string;
  svg: string;
}

const DIM_TICKS = [8, 16, 32, 64, 128, 256, 512];
const METHOD_STYLE: Record<string, Pick<ChartSeries, 'color' | 'marker' | 'dashed'>> = {
  mrl: { color: '#1f77b4', marker: 'circle' },
  'mrl-e': { color: '#17becf', marker: 'diamond', dashed: true },
  ff: { color: '#d62728', marker: 'square' },
  'ff512-trunc': { color: '#ff7f0e', marker: 'triangle', dashed: true },
  svd: { color: '#2ca02c', marker: 'cross' },
};

function perDimChart(
  methods: MethodFigures[],
  file: string,
  title: string,
  yLabel: string,
  pick: (r: PerDimRow) => number,
  note: string,
): ChartFile {
  const series: ChartSeries[] = methods
    .filter((m) => m.rows.length > 0)
    .map((m) => ({
      name: m.name,
      points: m.rows.map((r) => ({ x: r.dims, y: pick(r) })),
      ...METHOD_STYLE[m.id],
    }));
  return {
    file,
    title,
    svg: renderChart({
      title,
      x: { label: 'embedding dims (log2 scale)', log2: true, ticks: DIM_TICKS },
      y: { label: yLabel },
      series,
      note: [note],
    }),
  };
}

const mflops = (p: RetrievalPoint) => p.flopsPerQuery / 1e6;

function retrievalCharts(r: NonNullable<PaperResults['retrieval']>): ChartFile[] {
  const byDs = [...new Set(r.adaptive.map((p) => p.indexDims))].sort((a, b) => a - b);
  const byK = (a: RetrievalPoint, b: RetrievalPoint) => (a.shortlist ?? 0) - (b.shortlist ?? 0);
  const series = (x: (p: RetrievalPoint) => number, y: (p: RetrievalPoint) => number): ChartSeries[] => [
    ...byDs.map((ds) => ({
      name: `shortlist at ${ds} dims → rerank at 512`,
      points: r.adaptive
        .filter((p) => p.indexDims === ds)
        .sort(byK)
        .map((p) => ({ x: x(p), y: y(p) })),
    })),
    ...(r.hnswFull.length
      ? [
          {
            name: 'HNSW at 512 dims, single stage',
            color: '#8c564b',
            marker: 'triangle' as const,
            dashed: true,
            points: [...r.hnswFull].sort(byK).map((p) => ({ x: x(p), y: y(p) })),
          },
        ]
      : []),
    ...(r.funnel.length
      ? [
          {
            name: 'paper funnel (16-d first stage)',
            line: false,
            marker: 'diamond' as const,
            color: '#9467bd',
            points: r.funnel.map((p) => ({ x: x(p), y: y(p) })),
          },
        ]
      : []),
    {
      name: 'exact search at 512 dims',
      line: false,
      marker: 'cross' as const,
      color: '#333333',
      points: [{ x: x(r.exact), y: y(r.exact) }],
    },
  ];
  const note = [
    `Shortlist series: K = ${[...new Set(r.adaptive.map((p) => p.shortlist))].sort((a, b) => (a ?? 0) - (b ?? 0)).join(', ')}`,
    'in that order along each line;',
    `HNSW: ef = ${r.hnswFull.map((p) => p.shortlist).join(', ')}.`,
    `${r.queries.toLocaleString('en')} queries, ${r.database.toLocaleString('en')} vectors.`,
  ];
  const all = [r.exact, ...r.adaptive, ...r.funnel, ...r.hnswFull];
  const ys = all.map((p) => p.mapAt10);
  const mapAxis = {
    label: 'mAP@10 (paper formula)',
    min: Math.floor(Math.min(...ys) * 1000) / 1000 - 0.001,
    max: Math.ceil(Math.max(...ys) * 1000) / 1000 + 0.001,
    format: (v: number) => v.toFixed(3),
  };
  const flopsX = { label: 'MFLOPs per query (log2 scale)', log2: true };
  const latX = { label: 'p50 latency per query, ms (log2 scale)', log2: true };
  const chart = (
    file: string,
    title: string,
    x: typeof flopsX,
    y: typeof mapAxis | { label: string },
    fx: (p: RetrievalPoint) => number,
    fy: (p: RetrievalPoint) => number,
  ): ChartFile => ({ file, title, svg: renderChart({ title, x, y, series: series(fx, fy), note }) });
  return [
    chart(
      'adaptive-retrieval-flops.svg',
      'Adaptive retrieval through the server: mAP@10 vs FLOPs',
      flopsX,
      mapAxis,
      mflops,
      (p) => p.mapAt10,
    ),
    chart(
      'adaptive-retrieval-recall.svg',
      'Adaptive retrieval: recall@10 against exact vs FLOPs',
      flopsX,
      { label: 'recall@10 vs exact 512-d search' },
      mflops,
      (p) => p.recallAt10VsExact,
    ),
    chart(
      'adaptive-retrieval-latency.svg',
      'Adaptive retrieval through the server: mAP@10 vs p50 latency',
      latX,
      mapAxis,
      (p) => p.latencyMs.p50,
      (p) => p.mapAt10,
    ),
  ];
}

function classificationChart(c: NonNullable<PaperResults['classification']>): ChartFile {
  const title = 'Adaptive classification: accuracy vs mean dims used';
  const series: ChartSeries[] = [
    {
      name: `${c.model} cascade (threshold sweep)`,
      color: '#1f77b4',
      marker: 'circle',
      points: c.cascade.map((p) => ({ x: p.meanDims, y: p.accuracy })),
    },
    {
      name: `${c.model} heads, each alone`,
      color: '#17becf',
      marker: 'diamond',
      dashed: true,
      points: c.mrlHeads.map((h) => ({ x: h.dims, y: h.accuracy })),
    },
    ...(c.fixedHeads.length
      ? [
          {
            name: 'fixed-feature models',
            color: '#d62728',
            marker: 'square' as const,
            points: c.fixedHeads.map((h) => ({ x: h.dims, y: h.accuracy })),
          },
        ]
      : []),
  ];
  const note = [
    `Cascade thresholds ${c.thresholds[0]} … ${c.thresholds[c.thresholds.length - 1]},`,
    `left to right; ${c.examples.toLocaleString('en')} test images.`,
  ];
  return {
    file: 'adaptive-classification.svg',
    title,
    svg: renderChart({
      title,
      x: { label: 'mean dims used (log2 scale)', log2: true, ticks: DIM_TICKS, min: 8, max: 512 },
      y: { label: 'top-1 accuracy (test set)' },
      series,
      note,
    }),
  };
}

/** Every chart of docs/results.md, rendered from the results alone (deterministic). */
export function paperCharts(res: PaperResults): ChartFile[] {
  const queries = `${res.queries.toLocaleString('en')} queries, ${res.database.toLocaleString('en')} database images.`;
  const out = [
    perDimChart(res.perDim, 'map10-by-dim.svg', 'mAP@10 (paper formula) by embedding dims', 'mAP@10', (r) => r.mapAt10, queries),
    perDimChart(res.perDim, 'knn1-by-dim.svg', '1-NN accuracy by embedding dims', '1-NN accuracy', (r) => r.knn1, queries),
  ];
  if (res.retrieval) out.push(...retrievalCharts(res.retrieval));
  if (res.classification) out.push(classificationChart(res.classification));
  return out;
}
