// Types of public/chart-core.js (plain JS, loaded as it is by the browser and by Node).

export function niceTicks(lo: number, hi: number, target?: number): number[];

export function log2Ticks(lo: number, hi: number, maxTicks?: number): number[];

export function tickDecimals(ticks: number[]): number;

export interface AxisDomain {
  lo: number;
  hi: number;
  log2?: boolean;
  /** Explicit tick values (those outside [lo, hi] are dropped). */
  ticks?: number[];
  /** About how many linear ticks; default 6. */
  target?: number;
  /** At most how many log2 ticks; default all powers of two in the domain. */
  maxTicks?: number;
  format?: (v: number) => string;
}

export interface AxisScale {
  map: (v: number) => number;
  ticks: number[];
  format: (v: number) => string;
}

export function axisScale(domain: AxisDomain, from: number, to: number): AxisScale;
