/**
 * usearch (npm `usearch`, its prebuilt binary) over the full, L2-normalised vectors: the other
 * single-stage HNSW peer of the funnel in bench:scale and bench:search, in float32 and float16.
 * Its beam (`expansion_search`) is fixed when an index is constructed, so the graph is built
 * once, saved, and loaded again per beam tried.
 */
import { existsSync, renameSync, statSync } from 'node:fs';
import usearch from 'usearch';
import { setImmediate as tick } from 'node:timers/promises';
import { normalizedPrefix } from '../src/core/prefix.js';

export type UsearchQuant = 'f32' | 'f16';
export interface UsearchGraph {
  file: string;
  /** Seconds to build; null when the graph came from the cache. */
  buildS: number | null;
  bytes: number;
}

const ADD_BATCH = 10_000;

const config = (d: number, quant: UsearchQuant, m: number, efConstruction: number, ef: number) => ({
  dimensions: d,
  metric: usearch.MetricKind.IP,
  quantization: quant === 'f16' ? usearch.ScalarKind.F16 : usearch.ScalarKind.F32,
  connectivity: m,
  expansion_add: efConstruction,
  expansion_search: ef,
  multi: false,
});

/** The graph of rows 0..n-1 (keys = ordinals) in `file`: read from it when there, else built (every core) and saved. */
export function usearchGraph(
  file: string,
  rows: { n: number; d: number; row(i: number): Float32Array },
  quant: UsearchQuant,
  m: number,
  efConstruction: number,
  log: (msg: string) => void,
): UsearchGraph {
  if (existsSync(file)) return { file, buildS: null, bytes: statSync(file).size };
  log(`building usearch full-D ${quant} over ${rows.n} rows (saved in ${file})`);
  const t0 = performance.now();
  const index = new usearch.Index(config(rows.d, quant, m, efConstruction, 64));
  for (let a = 0; a < rows.n; a += ADD_BATCH) {
    const b = Math.min(rows.n, a + ADD_BATCH);
    const batch = new Float32Array((b - a) * rows.d);
    for (let i = a; i < b; i++) batch.set(normalizedPrefix(rows.row(i), rows.d), (i - a) * rows.d);
    index.add(
      BigUint64Array.from({ length: b - a }, (_, j) => BigInt(a + j)),
      batch,
      0,
    );
    if (a > 0 && a % 100_000 === 0) log(`  ${a} rows, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  }
  const buildS = (performance.now() - t0) / 1000;
  index.save(`${file}.tmp`);
  renameSync(`${file}.tmp`, file);
  return { file, buildS, bytes: statSync(file).size };
}

/**
 * Frees native graphs no longer referenced (usearch and hnswlib objects hold gigabytes outside
 * V8's heap, which V8 does not count, so without this each beam's reload stays resident: 250k ×
 * 2048 ran out of 24 GB). Needs `node --expose-gc` (the bench scripts pass it); else a no-op.
 */
export async function freeNativeGraphs(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return;
  for (let i = 0; i < 2; i++) {
    gc();
    await tick();
  }
}

/** The one usearch graph loaded for searching (a new beam means a reload: usearch fixes it at creation). */
let loaded: { file: string; ef: number; index: InstanceType<typeof usearch.Index> } | null = null;

/**
 * Top-10 search of the graph at beam `ef`, one thread per query (as every other row runs): row
 * ordinals. Loads the graph unless it is loaded at that beam; the previous one is released first.
 */
export async function usearchSearch(g: UsearchGraph, d: number, quant: UsearchQuant, m: number, efConstruction: number, ef: number) {
  if (loaded?.file !== g.file || loaded.ef !== ef) {
    loaded = null;
    await freeNativeGraphs();
    const index = new usearch.Index(config(d, quant, m, efConstruction, ef));
    index.load(g.file);
    loaded = { file: g.file, ef, index };
  }
  const index = loaded.index;
  return (q: Float32Array): number[] => Array.from(index.search(normalizedPrefix(q, d), 10, 1).keys, Number);
}

/** Releases the loaded usearch graph. */
export async function closeUsearch(): Promise<void> {
  loaded = null;
  await freeNativeGraphs();
}

/**
 * The smallest beam of `efs` whose recall reaches `want` (else the largest), measured by
 * `measureAt`, which is handed each beam in turn.
 */
export async function smallestEf<M extends { recall: number }>(
  efs: number[],
  want: number,
  measureAt: (ef: number) => Promise<M>,
): Promise<{ ef: number; m: M }> {
  let best: { ef: number; m: M } | null = null;
  for (const ef of efs) {
    best = { ef, m: await measureAt(ef) };
    if (best.m.recall >= want) break;
  }
  return best!;
}
