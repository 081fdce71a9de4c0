import { randomRotationSteps, rotateRows } from '../core/rotation.js';
import { mulberry32, partialShuffle, subSeed } from '../core/rng.js';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { prefixCurve } from './prefix-recall.js';
import type { PrefixFigures } from './types.js';
import { TimeSlice } from './time-slice.js';
import { gainOf } from './verdict.js';

/** Multiply-adds of rotation between event-loop turns (a few ms); a row costs D². */
const ROTATE_WORK = 4_000_000;

/** What measurePrefixes reads: the sample (n×D rows, row-major) and how to search it. */
export interface MeasureJob {
  rows: Float32Array;
  n: number;
  dim: number;
  nesting: number[];
  queries: number;
  seed: number;
}

/**
 * The report's per-prefix figures for a sample (n×D rows, row-major): exact search at each
 * nesting prefix against full D, on the rows as they are and after a seeded random orthogonal
 * rotation of the sample (its dims then carry no order: the baseline the gain is measured
 * against). `queries` rows of the sample, chosen by `seed`, are searched, each left out.
 */
export async function measurePrefixes(
  rows: Float32Array,
  n: number,
  dim: number,
  nesting: number[],
  queries: number,
  seed: number,
): Promise<PrefixFigures[]> {
  const dims = [...new Set([...nesting.filter((d) => d >= 1 && d < dim), dim])].sort((a, b) => a - b);
  const picks = pickQueries(n, queries, subSeed(seed, 'queries'));
  const plain = await prefixCurve(rows, n, dim, picks, dims);
  const rot = await drain(randomRotationSteps(dim, subSeed(seed, 'rotation')));
  const rotated = rows.slice();
  const chunk = Math.max(1, Math.floor(ROTATE_WORK / dim ** 2));
  for (let r = 0; r < n; r += chunk) {
    rotateRows(rotated, rot, dim, r, Math.min(n, r + chunk));
    await yieldToLoop();
  }
  const base = await prefixCurve(rotated, n, dim, picks, dims);
  return plain.map((p, i) => ({
    dims: p.dims,
    recallAt10: p.recallAt10,
    shortlistRecall: p.shortlistRecall,
    rotatedShortlistRecall: base[i].shortlistRecall,
    gain: p.dims === dim ? 0 : gainOf(p.shortlistRecall, base[i].shortlistRecall),
    shortlistFor099: p.shortlistFor099,
  }));
}

/** `count` distinct row indices in 0..n-1, seeded (partial Fisher–Yates). */
export function pickQueries(n: number, count: number, seed: number): number[] {
  const idx = Array.from({ length: n }, (_, i) => i);
  return idx.slice(0, partialShuffle(idx, count, mulberry32(seed)));
}

/** Runs a generator to its return value, yielding to the event loop every few ms. */
async function drain<T>(steps: Generator<unknown, T, void>): Promise<T> {
  const slice = new TimeSlice();
  for (let r = steps.next(); ; r = steps.next()) {
    if (r.done) return r.value;
    if (slice.due()) await slice.pause();
  }
}
