// The chart maths shared by the web page (public/plot.js draws with the DOM) and the report
// (src/report/svg-chart.ts writes SVG text): tick values, tick labels and the value → pixel map
// of an axis, linear or log2. Plain JS with no DOM and no Node, so the browser and Node load the
// same file; its types are in chart-core.d.ts. A tick fix made here reaches both charts.

/** 1, 2, 2.5 or 5 × 10^k ticks covering [lo, hi], about `target` of them. */
export function niceTicks(lo, hi, target = 6) {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / target;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((f) => f * mag).find((s) => s >= raw) ?? 10 * mag;
  const out = [];
  const first = Math.ceil(lo / step - 1e-9);
  for (let i = first; i * step <= hi + step * 1e-9; i++) out.push(Number((i * step).toPrecision(12)));
  return out;
}

/** Powers of two inside [lo, hi]; every n-th one when there are more than `maxTicks`. */
export function log2Ticks(lo, hi, maxTicks = Infinity) {
  const all = [];
  for (let e = Math.ceil(Math.log2(lo) - 1e-9); 2 ** e <= hi * (1 + 1e-9); e++) all.push(2 ** e);
  const every = Math.max(1, Math.ceil(all.length / maxTicks));
  return all.filter((_, i) => i % every === 0);
}

/** The fewest decimals (≤ 6) that print every tick exactly (0.8875 needs 4, 0.88 needs 2). */
export function tickDecimals(ticks) {
  for (let d = 0; d < 6; d++) {
    if (ticks.every((t) => Math.abs(Number(t.toFixed(d)) - t) <= 1e-9 * Math.max(1, Math.abs(t)))) return d;
  }
  return 6;
}

/**
 * One axis over the domain [lo, hi] drawn from pixel `from` to pixel `to`: `map` (value → pixel,
 * on a log2 scale when `log2`), `ticks` (the given ones, or nice linear steps about `target` of
 * them, or powers of two at most `maxTicks`; those outside the domain dropped) and `format`
 * (the given one, or the ticks' value with the decimals they all need; powers of two as they are).
 */
export function axisScale({ lo, hi, log2 = false, ticks, target = 6, maxTicks = Infinity, format }, from, to) {
  const f = log2 ? Math.log2 : (v) => v;
  const a = f(lo);
  const b = f(hi);
  const shown = (ticks ?? (log2 ? log2Ticks(lo, hi, maxTicks) : niceTicks(lo, hi, target))).filter(
    (t) => t >= lo - 1e-12 && t <= hi + 1e-12,
  );
  const decimals = tickDecimals(shown);
  return {
    map: (v) => from + ((f(v) - a) / (b - a || 1)) * (to - from),
    ticks: shown,
    format: format ?? ((v) => (log2 ? String(v) : v.toFixed(decimals))),
  };
}
