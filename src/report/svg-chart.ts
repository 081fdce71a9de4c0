import { axisScale, niceTicks, type AxisScale } from '../../public/chart-core.js';

/**
 * A small, dependency-free SVG chart: several series of (x, y) points drawn as lines and/or
 * markers, axes with ticks, an optional log2 x (or y) axis, a legend on the right. The output
 * depends only on the spec (fixed palette, coordinates rounded to 2 decimals), so a chart
 * re-rendered from the same figures is byte-identical and diffs cleanly in git. Ticks, tick
 * labels and the value → pixel map come from public/chart-core.js, which the web page uses too.
 */

export type MarkerShape = 'circle' | 'square' | 'triangle' | 'diamond' | 'cross' | 'none';

export interface ChartPoint {
  x: number;
  y: number;
  /** A short annotation drawn next to the marker (e.g. "K=200"). */
  label?: string;
}

export interface ChartSeries {
  name: string;
  points: ChartPoint[];
  /** Join the points, in the order given, with a line; default true. */
  line?: boolean;
  /** Default: the palette's marker for the series' position. */
  marker?: MarkerShape;
  /** Any CSS colour; default: the palette's colour for the series' position. */
  color?: string;
  dashed?: boolean;
}

export interface AxisSpec {
  label: string;
  /** Log base 2 scale (values must be > 0); ticks at powers of two. */
  log2?: boolean;
  min?: number;
  max?: number;
  /** Explicit tick values; default: "nice" steps (linear) or powers of two (log2). */
  ticks?: number[];
  /** Tick label text; default: a fixed number of decimals chosen from the tick step. */
  format?: (v: number) => string;
}

export interface ChartSpec {
  title: string;
  width?: number;
  height?: number;
  x: AxisSpec;
  y: AxisSpec;
  series: ChartSeries[];
  /** Minimum width reserved for the legend on the right (px); widened to fit the names. */
  legendWidth?: number;
  /** Lines of small text under the legend (e.g. what the points of a series are). */
  note?: string[];
}

export const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#7f7f7f', '#bcbd22'];
const MARKERS: MarkerShape[] = ['circle', 'square', 'triangle', 'diamond', 'cross'];

/** Escapes text for SVG element content and attribute values. */
export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

const num = (v: number): string => {
  const s = v.toFixed(2);
  return s === '-0.00' ? '0.00' : s;
};

/** The axis's domain (rounded out to its tick step, or to powers of two), then its scale and ticks from chart-core. */
function makeScale(axis: AxisSpec, values: number[], from: number, to: number): AxisScale {
  const finite = values.filter((v) => Number.isFinite(v) && (!axis.log2 || v > 0));
  let lo = axis.min ?? (finite.length ? Math.min(...finite) : 0);
  let hi = axis.max ?? (finite.length ? Math.max(...finite) : 1);
  if (axis.log2) {
    if (!(lo > 0)) throw new Error(`axis '${axis.label}': a log2 axis needs values > 0`);
    if (axis.min === undefined) lo = 2 ** Math.floor(Math.log2(lo) + 1e-9);
    if (axis.max === undefined) hi = 2 ** Math.ceil(Math.log2(hi) - 1e-9);
    if (hi <= lo) hi = lo * 2;
  } else {
    if (hi <= lo) {
      const pad = lo === 0 ? 1 : Math.abs(lo) * 0.05;
      lo -= pad;
      hi += pad;
    } else if (axis.min === undefined || axis.max === undefined) {
      // Round the open ends out to the nice tick step, so data never sits on the frame.
      const t = niceTicks(lo, hi);
      const step = t.length > 1 ? t[1] - t[0] : (hi - lo) / 5;
      if (axis.min === undefined) lo = Math.floor(lo / step + 1e-9) * step;
      if (axis.max === undefined) hi = Math.ceil(hi / step - 1e-9) * step;
    }
  }
  return axisScale({ lo, hi, log2: axis.log2, ticks: axis.ticks, format: axis.format }, from, to);
}

function marker(shape: MarkerShape, x: number, y: number, color: string): string {
  const r = 4;
  const fill = `fill="${color}" stroke="${color}"`;
  switch (shape) {
    case 'none':
      return '';
    case 'circle':
      return `<circle class="marker" cx="${num(x)}" cy="${num(y)}" r="${r}" ${fill}/>`;
    case 'square':
      return `<rect class="marker" x="${num(x - r)}" y="${num(y - r)}" width="${2 * r}" height="${2 * r}" ${fill}/>`;
    case 'triangle':
      return `<polygon class="marker" points="${num(x)},${num(y - r - 1)} ${num(x - r - 1)},${num(y + r)} ${num(x + r + 1)},${num(y + r)}" ${fill}/>`;
    case 'diamond':
      return `<polygon class="marker" points="${num(x)},${num(y - r - 1)} ${num(x + r + 1)},${num(y)} ${num(x)},${num(y + r + 1)} ${num(x - r - 1)},${num(y)}" ${fill}/>`;
    case 'cross':
      return `<path class="marker" d="M${num(x - r)},${num(y - r)}L${num(x + r)},${num(y + r)}M${num(x - r)},${num(y + r)}L${num(x + r)},${num(y - r)}" stroke="${color}" stroke-width="2" fill="none"/>`;
  }
}

/** Where one tick draws, from its position along the axis: grid line and tick as [x1, y1, x2, y2], label as [x, y, text-anchor]. */
interface TickPlace {
  grid: [number, number, number, number];
  tick: [number, number, number, number];
  label: [number, number, string];
}

const line = (cls: string, [x1, y1, x2, y2]: TickPlace['grid'], stroke: string) =>
  `<line class="${cls}" x1="${num(x1)}" y1="${num(y1)}" x2="${num(x2)}" y2="${num(y2)}" stroke="${stroke}"/>`;

/** One axis's group: a grid line, a tick and a tick label per tick (placed by `at`), then the axis label. */
function axisGroup(name: 'x' | 'y', scale: AxisScale, at: (v: number) => TickPlace, axisLabel: string): string[] {
  const out = [`<g class="axis axis-${name}">`];
  for (const t of scale.ticks) {
    const {
      grid,
      tick,
      label: [x, y, anchor],
    } = at(scale.map(t));
    out.push(line('grid', grid, '#e5e5e5'), line('tick', tick, '#333333'));
    out.push(`<text class="tick-label" x="${num(x)}" y="${num(y)}" text-anchor="${anchor}">${escapeXml(scale.format(t))}</text>`);
  }
  out.push(axisLabel, '</g>');
  return out;
}

/** Renders the chart as a standalone SVG document (a string ending in a newline). */
export function renderChart(spec: ChartSpec): string {
  const height = spec.height ?? 420;
  // Legend text is about 0.6 em per character at 12 px; the swatch takes 30 px more.
  const longest = Math.max(0, ...spec.series.map((s) => s.name.length), ...(spec.note ?? []).map((n) => n.length * 0.85));
  const legendWidth = Math.max(spec.legendWidth ?? 150, Math.ceil(40 + 7 * longest));
  const width = spec.width ?? 540 + legendWidth;
  const m = { left: 70, right: 20 + legendWidth, top: 40, bottom: 56 };
  const plot = { x0: m.left, x1: width - m.right, y0: height - m.bottom, y1: m.top };
  const all = spec.series.flatMap((s) => s.points).filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
  const xs = makeScale(
    spec.x,
    all.map((p) => p.x),
    plot.x0,
    plot.x1,
  );
  const ys = makeScale(
    spec.y,
    all.map((p) => p.y),
    plot.y0,
    plot.y1,
  );
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12" role="img">`,
  );
  out.push(`<title>${escapeXml(spec.title)}</title>`);
  out.push(`<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`);
  out.push(
    `<text class="title" x="${num(width / 2)}" y="24" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(spec.title)}</text>`,
  );

  // Grid, ticks and tick labels.
  const xLabel = `<text class="axis-label" x="${num((plot.x0 + plot.x1) / 2)}" y="${num(height - 14)}" text-anchor="middle">${escapeXml(spec.x.label)}</text>`;
  out.push(
    ...axisGroup(
      'x',
      xs,
      (x) => ({ grid: [x, plot.y1, x, plot.y0], tick: [x, plot.y0, x, plot.y0 + 5], label: [x, plot.y0 + 19, 'middle'] }),
      xLabel,
    ),
  );
  const yMid = (plot.y0 + plot.y1) / 2;
  const yLabel = `<text class="axis-label" x="16" y="${num(yMid)}" text-anchor="middle" transform="rotate(-90 16 ${num(yMid)})">${escapeXml(spec.y.label)}</text>`;
  out.push(
    ...axisGroup(
      'y',
      ys,
      (y) => ({ grid: [plot.x0, y, plot.x1, y], tick: [plot.x0 - 5, y, plot.x0, y], label: [plot.x0 - 8, y + 4, 'end'] }),
      yLabel,
    ),
  );
  out.push(
    `<rect class="frame" x="${num(plot.x0)}" y="${num(plot.y1)}" width="${num(plot.x1 - plot.x0)}" height="${num(plot.y0 - plot.y1)}" fill="none" stroke="#333333"/>`,
  );

  // Series: one path (when drawn as a line) and its markers per series.
  spec.series.forEach((s, i) => {
    const color = s.color ?? PALETTE[i % PALETTE.length];
    const shape = s.marker ?? MARKERS[i % MARKERS.length];
    const pts = s.points.filter(
      (p) => Number.isFinite(p.x) && Number.isFinite(p.y) && (!spec.x.log2 || p.x > 0) && (!spec.y.log2 || p.y > 0),
    );
    out.push(`<g class="series" data-name="${escapeXml(s.name)}">`);
    if (s.line !== false && pts.length > 0) {
      const d = pts.map((p, j) => `${j === 0 ? 'M' : 'L'}${num(xs.map(p.x))},${num(ys.map(p.y))}`).join('');
      out.push(
        `<path class="series-line" d="${d}" fill="none" stroke="${color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`,
      );
    }
    for (const p of pts) {
      const x = xs.map(p.x);
      const y = ys.map(p.y);
      out.push(marker(shape, x, y, color));
      if (p.label !== undefined)
        out.push(
          `<text class="point-label" x="${num(x + 6)}" y="${num(y - 6)}" font-size="10" fill="${color}">${escapeXml(p.label)}</text>`,
        );
    }
    out.push('</g>');
  });

  // Legend.
  out.push('<g class="legend">');
  spec.series.forEach((s, i) => {
    const color = s.color ?? PALETTE[i % PALETTE.length];
    const shape = s.marker ?? MARKERS[i % MARKERS.length];
    const x = plot.x1 + 16;
    const y = plot.y1 + 10 + i * 20;
    if (s.line !== false)
      out.push(
        `<line x1="${num(x)}" y1="${num(y)}" x2="${num(x + 24)}" y2="${num(y)}" stroke="${color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`,
      );
    out.push(marker(shape, x + 12, y, color));
    out.push(`<text class="legend-label" x="${num(x + 30)}" y="${num(y + 4)}">${escapeXml(s.name)}</text>`);
  });
  (spec.note ?? []).forEach((line, j) => {
    out.push(
      `<text class="note" x="${num(plot.x1 + 16)}" y="${num(plot.y1 + 20 + spec.series.length * 20 + j * 15)}" font-size="10.5" fill="#555555">${escapeXml(line)}</text>`,
    );
  });
  out.push('</g>');
  out.push('</svg>');
  return `${out.filter((l) => l !== '').join('\n')}\n`;
}
