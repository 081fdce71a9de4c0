// A small SVG plotting helper: one x/y chart with linear or log2 axes and layers of marks.
// No library: the page builds its two charts from this. Ticks, tick labels and the value → pixel
// map come from chart-core.js, shared with the report's charts (src/report/svg-chart.ts).
import { axisScale } from './chart-core.js';

const NS = 'http://www.w3.org/2000/svg';

/** An SVG element with attributes and children (strings become text nodes). */
export function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null) el.setAttribute(k, String(v));
  for (const c of children) if (c !== null && c !== undefined) el.append(typeof c === 'string' ? document.createTextNode(c) : c);
  return el;
}

/** Domain of one axis, padded so marks do not sit on the frame. */
function domain(values, { log2 = false, zero = false, min, max } = {}) {
  let lo = Math.min(...values);
  let hi = Math.max(...values);
  if (min !== undefined) lo = Math.min(lo, min);
  if (max !== undefined) hi = Math.max(hi, max);
  if (log2) {
    const pad = Math.max(0.25, (Math.log2(hi) - Math.log2(lo)) * 0.06);
    return [2 ** (Math.log2(lo) - pad), 2 ** (Math.log2(hi) + pad)];
  }
  if (zero) lo = Math.min(0, lo);
  const span = hi - lo || Math.abs(hi) || 1;
  return [zero && lo === 0 ? 0 : lo - span * 0.08, hi + span * 0.08];
}

/** One mark: circle, square, diamond or ring (an unfilled, larger circle). */
function mark(shape, x, y, r, cls) {
  if (shape === 'square') return s('rect', { x: x - r, y: y - r, width: 2 * r, height: 2 * r, class: cls });
  if (shape === 'diamond') {
    const d = r * 1.35;
    return s('path', { d: `M${x},${y - d}L${x + d},${y}L${x},${y + d}L${x - d},${y}Z`, class: cls });
  }
  if (shape === 'ring') return s('circle', { cx: x, cy: y, r: r + 3, class: `${cls} ring` });
  return s('circle', { cx: x, cy: y, r, class: cls });
}

/**
 * An SVG chart. `x` and `y`: { label, log2?, zero?, format? }. `layers`: drawn in order, each
 * { points: [{ x, y, title?, note? }], line?, marks? (default true), shape?, r?, cls }.
 * `note` writes a short text beside the mark; `title` is the hover tooltip.
 */
export function chart({ width = 480, height = 280, x, y, layers }) {
  const m = { left: 56, right: 18, top: 14, bottom: 44 };
  const pts = layers.flatMap((l) => l.points);
  const [xlo, xhi] = domain(
    pts.map((p) => p.x),
    x,
  );
  const [ylo, yhi] = domain(
    pts.map((p) => p.y),
    y,
  );
  const xa = axisScale({ lo: xlo, hi: xhi, log2: x.log2, target: 6, maxTicks: 8, format: x.format }, m.left, width - m.right);
  const ya = axisScale({ lo: ylo, hi: yhi, target: 5, format: y.format }, height - m.bottom, m.top);
  const sx = xa.map;
  const sy = ya.map;
  const root = s('svg', { viewBox: `0 0 ${width} ${height}`, class: 'plot', role: 'img', 'aria-label': `${y.label} against ${x.label}` });

  const grid = s('g', { class: 'grid' });
  const axes = s('g', { class: 'axis' });
  for (const t of xa.ticks) {
    const px = sx(t);
    grid.append(s('line', { x1: px, x2: px, y1: m.top, y2: height - m.bottom }));
    axes.append(s('text', { x: px, y: height - m.bottom + 16, 'text-anchor': 'middle', class: 'tick x' }, xa.format(t)));
  }
  for (const t of ya.ticks) {
    const py = sy(t);
    grid.append(s('line', { x1: m.left, x2: width - m.right, y1: py, y2: py }));
    axes.append(s('text', { x: m.left - 6, y: py + 4, 'text-anchor': 'end', class: 'tick y' }, ya.format(t)));
  }
  axes.append(
    s('rect', { x: m.left, y: m.top, width: width - m.left - m.right, height: height - m.top - m.bottom, class: 'frame' }),
    s('text', { x: (m.left + width - m.right) / 2, y: height - 8, 'text-anchor': 'middle', class: 'label' }, x.label),
    s(
      'text',
      {
        x: 14,
        y: (m.top + height - m.bottom) / 2,
        'text-anchor': 'middle',
        class: 'label',
        transform: `rotate(-90 14 ${(m.top + height - m.bottom) / 2})`,
      },
      y.label,
    ),
  );
  root.append(grid, axes);

  for (const layer of layers) {
    const g = s('g', { class: `layer ${layer.cls ?? ''}` });
    if (layer.line && layer.points.length > 1) {
      g.append(s('polyline', { points: layer.points.map((p) => `${sx(p.x)},${sy(p.y)}`).join(' '), class: 'line' }));
    }
    if (layer.marks !== false) {
      for (const p of layer.points) {
        const el = mark(layer.shape ?? 'circle', sx(p.x), sy(p.y), layer.r ?? 3.5, 'mark');
        if (p.title) el.append(s('title', {}, p.title));
        g.append(el);
        if (p.note) {
          const right = sx(p.x) < width - m.right - 60;
          g.append(
            s('text', { x: sx(p.x) + (right ? 9 : -9), y: sy(p.y) - 7, 'text-anchor': right ? 'start' : 'end', class: 'note' }, p.note),
          );
        }
      }
    }
    root.append(g);
  }
  return root;
}

/** A legend row for a chart: [{ label, cls, shape?, line? }]. */
export function legend(items) {
  const div = document.createElement('div');
  div.className = 'legend';
  for (const it of items) {
    const key = s('svg', { width: 24, height: 16, class: `layer ${it.cls ?? ''}`, 'aria-hidden': 'true' });
    if (it.line) key.append(s('line', { x1: 1, x2: 23, y1: 8, y2: 8, class: 'line' }));
    key.append(mark(it.shape ?? 'circle', 12, 8, 3.5, 'mark'));
    const span = document.createElement('span');
    span.append(key, it.label);
    div.append(span);
  }
  return div;
}
