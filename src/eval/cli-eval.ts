import cliProgress from 'cli-progress';
import { parseFunnelSpec } from '../search/funnel-spec.js';
import type { SearchOptions } from '../search/options.js';
import type { AppContext } from '../context.js';
import type { QuerySet, SweepPoint, SweepResult, EvalResult } from './types.js';
import type { SweepGrid } from './sweep.js';

export const EVAL_USAGE = `  mrl eval --collection <name> [--queries <collection> [--limit N] | --sample 0.1|1000 [--seed 1]]
           [--shortlist K] [--rerank D_r] [--ef N] [--funnel paper|16:200,…] [--exact] [--json]
                                     mAP@10, P@10, top-1, recall vs exact full-D, latency, QPS, FLOPs
  mrl eval --sweep --collection <name> [--index-dims 16,32,…,D] [--shortlists 20,50,…] [--rerank-dims D]
           [--efs 16,32] [--refines 0,20,40] [--funnels "paper;16:200,64:50,512:10"] [--target-recall 0.99]
           [--tolerance-map 0.005] [--cost latency|flops] [--apply] [--json]
                                     grid, Pareto front, cheapest config reaching the recall target
                                     (and exact's mAP@10 within tolerance, with labels); --apply stores it
  mrl eval --classify --model fashion-mrl [--data <fashion-mnist dir>] [--thresholds 0.5,…] [--json]
                                     adaptive classification cascade: accuracy against mean dims`;

export const EVAL_OPTIONS = {
  queries: { type: 'string' },
  limit: { type: 'string' },
  sample: { type: 'string' },
  seed: { type: 'string' },
  ef: { type: 'string' },
  sweep: { type: 'boolean' },
  'index-dims': { type: 'string' },
  shortlists: { type: 'string' },
  'rerank-dims': { type: 'string' },
  efs: { type: 'string' },
  refines: { type: 'string' },
  funnels: { type: 'string' },
  'target-recall': { type: 'string' },
  'tolerance-recall': { type: 'string' },
  'tolerance-map': { type: 'string' },
  cost: { type: 'string' },
  apply: { type: 'boolean' },
  json: { type: 'boolean' },
} as const;

type Values = Record<string, string | boolean | undefined>;
const num = (v: unknown): number | undefined => (typeof v === 'string' ? Number(v) : undefined);
const list = (v: unknown): number[] | undefined => (typeof v === 'string' ? v.split(',').map(Number) : undefined);
const f4 = (x: number | null) => (x === null ? '–' : x.toFixed(4));
const ms = (x: number) => x.toFixed(3);

function querySet(o: Values): QuerySet | undefined {
  if (typeof o.queries === 'string') return { collection: o.queries, limit: num(o.limit) };
  if (o.sample !== undefined || o.seed !== undefined) return { sample: num(o.sample) ?? 1000, seed: num(o.seed) };
  return undefined;
}

function progressBar(label: string) {
  const bar = new cliProgress.SingleBar(
    { format: `${label} |{bar}| {value}/{total} queries | {eta_formatted} left`, stream: process.stderr },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(done: number, total: number) {
      if (!started) bar.start(total, 0);
      started = true;
      bar.setTotal(total);
      bar.update(done);
    },
    stop: () => started && bar.stop(),
  };
}

function table(rows: (string | number)[][]): string {
  const w = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  return rows.map((r) => r.map((c, i) => (i === 0 ? String(c).padEnd(w[i]) : String(c).padStart(w[i]))).join('  ')).join('\n');
}

export function formatEval(r: EvalResult): string {
  const stages = r.config.stages.map((s) => `${s.source} ${s.dims}d→${s.keep}`).join(', ');
  return `${r.collection}: ${r.queries} queries (${r.unlabelledQueries} unlabelled), ${stages}\n${table([
    ['mAP@10', 'mAP@10 (hits)', 'P@10', 'top-1', 'recall@10 vs exact', 'p50 ms', 'p99 ms', 'QPS', 'MFLOPs/query'],
    [
      f4(r.mapAt10),
      f4(r.mapAt10HitNormalized),
      f4(r.precisionAt10),
      f4(r.top1),
      f4(r.recallAt10VsExact),
      ms(r.latencyMs.p50),
      ms(r.latencyMs.p99),
      Math.round(r.qps),
      (r.flopsPerQuery / 1e6).toFixed(2),
    ],
  ])}`;
}

export function formatSweep(r: SweepResult): string {
  const row = (p: SweepPoint) => [
    p.label + (p.pareto ? ' *' : '') + (p.paretoRecall ? ' †' : ''),
    f4(p.mapAt10),
    f4(p.recallAt10VsExact),
    ms(p.latencyMs.p50),
    ms(p.latencyMs.p99),
    (p.flopsPerQuery / 1e6).toFixed(2),
    (p.indexBytes / 2 ** 20).toFixed(1),
  ];
  const head = ['configuration (Pareto vs p50: * mAP@10, † recall)', 'mAP@10', 'recall', 'p50 ms', 'p99 ms', 'MFLOPs', 'index MiB'];
  const perDim = table([
    ['exact at dims', 'mAP@10', 'top-1', 'recall', 'p50 ms'],
    ...r.perDim.map((p) => [p.dims, f4(p.mapAt10), f4(p.top1), f4(p.recallAt10VsExact), ms(p.latencyMs.p50)]),
  ]);
  const best = r.best
    ? `best (recall@10 ≥ ${r.targetRecall}${r.labelledQueries ? `, mAP@10 ≥ exact − ${r.tolerance.mapAt10}` : ', no labels: recall only'}): ${r.best.label}, p50 ${ms(r.best.latencyMs.p50)} ms vs exact ${ms(r.exact.latencyMs.p50)} ms${r.applied ? ' — applied as the collection default' : ''}`
    : `no configuration reaches recall@10 ${r.targetRecall}${r.labelledQueries ? ' within tolerance of exact mAP@10' : ''}`;
  return `${r.collection}: ${r.queries} queries, ${r.points.length} points\n${perDim}\n\n${table([head, row(r.exact), ...r.points.map(row)])}\n\n${best}`;
}

/** `mrl eval` and `mrl eval --sweep`. */
export async function runEvalCommand(ctx: AppContext, o: Values): Promise<void> {
  const collection = typeof o.collection === 'string' ? o.collection : 'default';
  const bar = progressBar(o.sweep ? 'sweep' : 'eval');
  const onProgress = (d: number, t: number) => bar.update(d, t);
  try {
    if (o.sweep) {
      const dim = ctx.engine.runtime(collection).record.dim;
      const grid: SweepGrid = {
        indexDims: list(o['index-dims']),
        shortlists: list(o.shortlists),
        rerankDims: list(o['rerank-dims']),
        efs: list(o.efs),
        refines: list(o.refines),
      };
      if (typeof o.funnels === 'string')
        grid.funnels = o.funnels
          .split(';')
          .filter(Boolean)
          .map((s) => parseFunnelSpec(s, dim));
      const r = await ctx.evals.sweep({
        collection,
        queries: querySet(o),
        grid,
        apply: o.apply === true,
        cost: o.cost as 'latency' | 'flops' | undefined,
        targetRecall: num(o['target-recall']),
        tolerance: { recall: num(o['tolerance-recall']), mapAt10: num(o['tolerance-map']) },
        onProgress,
      });
      bar.stop();
      process.stdout.write(`${o.json ? JSON.stringify(r, null, 2) : formatSweep(r)}\n`);
    } else {
      const search: SearchOptions = {
        shortlist: num(o.shortlist),
        rerank: num(o.rerank),
        ef: num(o.ef),
        exact: o.exact === true ? true : undefined,
      };
      if (typeof o.funnel === 'string') search.funnel = parseFunnelSpec(o.funnel, ctx.engine.runtime(collection).record.dim);
      const r = await ctx.evals.evaluate({
        collection,
        queries: querySet(o),
        search: Object.fromEntries(Object.entries(search).filter(([, v]) => v !== undefined)),
        onProgress,
      });
      bar.stop();
      process.stdout.write(`${o.json ? JSON.stringify(r, null, 2) : formatEval(r)}\n`);
    }
  } finally {
    bar.stop();
  }
}
