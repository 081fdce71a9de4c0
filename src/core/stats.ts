/** Summary statistics for timings (benchmarks and evaluation). */

/** The p-quantile (0 ≤ p ≤ 1) by linear interpolation between closest ranks; NaN when empty. */
export function quantile(values: ArrayLike<number>, p: number): number {
  const n = values.length;
  if (n === 0) return NaN;
  const s = Float64Array.from(values).sort();
  const pos = Math.min(Math.max(p, 0), 1) * (n - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, n - 1);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

export function median(values: ArrayLike<number>): number {
  return quantile(values, 0.5);
}

export function mean(values: ArrayLike<number>): number {
  const n = values.length;
  if (n === 0) return NaN;
  let s = 0;
  for (let i = 0; i < n; i++) s += values[i];
  return s / n;
}

export interface LatencySummary {
  count: number;
  p50: number;
  p99: number;
  mean: number;
  totalS: number;
  qps: number;
}

/** Per-query latencies (ms) plus the wall time of the whole sequential loop (ms). */
export function summarise(latenciesMs: ArrayLike<number>, wallMs: number): LatencySummary {
  return {
    count: latenciesMs.length,
    p50: median(latenciesMs),
    p99: quantile(latenciesMs, 0.99),
    mean: mean(latenciesMs),
    totalS: wallMs / 1000,
    qps: latenciesMs.length / (wallMs / 1000),
  };
}
