/** Small formatting helpers for docs/results.md. */

export type Align = 'l' | 'r';

/** A GitHub-flavoured markdown table; `align` per column (default: first left, the rest right). */
export function table(head: string[], rows: string[][], align?: Align[]): string {
  const a = align ?? head.map((_, i) => (i === 0 ? 'l' : 'r'));
  const sep = a.map((x) => (x === 'r' ? '---:' : '---'));
  return [head, sep, ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

export const f4 = (x: number | undefined): string => (x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(4));

/** Milliseconds with 3 significant digits (0.412, 3.71, 41.2). */
export function ms(x: number | undefined): string {
  if (x === undefined || !Number.isFinite(x)) return '–';
  return x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x >= 1 ? x.toFixed(2) : x.toFixed(3);
}

export function mflops(flops: number): string {
  const m = flops / 1e6;
  return m >= 10 ? m.toFixed(1) : m >= 1 ? m.toFixed(2) : m.toFixed(3);
}

export function ratio(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '–';
  return `${x >= 10 ? x.toFixed(0) : x.toFixed(1)}×`;
}

export function minutes(msTotal: number): string {
  const s = Math.round(msTotal / 1000);
  return s >= 120 ? `${(s / 60).toFixed(1)} min` : `${s} s`;
}

/** Bold the largest of each row's numeric cells (from column `from` on); ties all bold. */
export function boldMax(cells: (number | undefined)[], fmt: (x: number | undefined) => string): string[] {
  const vals = cells.filter((x): x is number => x !== undefined && Number.isFinite(x));
  const best = vals.length ? Math.max(...vals.map((v) => Number(fmt(v)))) : Number.NaN;
  return cells.map((x) => (x !== undefined && Number(fmt(x)) === best && vals.length > 1 ? `**${fmt(x)}**` : fmt(x)));
}
