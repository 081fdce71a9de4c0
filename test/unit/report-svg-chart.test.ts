import { test } from 'node:test';
import assert from 'node:assert/strict';
import { niceTicks } from '../../public/chart-core.js';
import { escapeXml, renderChart, type ChartSpec } from '../../src/report/svg-chart.js';

const dims = [8, 16, 32, 64, 128, 256, 512];

function spec(): ChartSpec {
  return {
    title: 'mAP@10 <by dim> & "method"',
    x: { label: 'dims', log2: true },
    y: { label: 'mAP@10' },
    series: [
      { name: 'MRL', points: dims.map((d, i) => ({ x: d, y: 0.8 + i * 0.005 })) },
      { name: 'fixed <ff>', points: dims.map((d, i) => ({ x: d, y: 0.79 + i * 0.007 })) },
      { name: 'scatter', line: false, points: [{ x: 32, y: 0.81, label: 'K=200' }] },
    ],
  };
}

/** The x coordinate of each x-axis tick label, keyed by its text. */
function xTickPositions(svg: string): Map<string, number> {
  const axis = svg.slice(svg.indexOf('<g class="axis axis-x">'), svg.indexOf('<g class="axis axis-y">'));
  const out = new Map<string, number>();
  for (const m of axis.matchAll(/<text class="tick-label" x="([\d.]+)"[^>]*>([^<]*)<\/text>/g)) out.set(m[2], Number(m[1]));
  return out;
}

test('one path per series drawn as a line, and one marker per point', () => {
  const svg = renderChart(spec());
  assert.equal(svg.match(/<path class="series-line"/g)?.length, 2);
  assert.equal(svg.match(/<g class="series"/g)?.length, 3);
  // 7 + 7 points in the plot, plus one marker per series in the legend.
  assert.equal(svg.match(/class="marker"/g)?.length, 7 + 7 + 1 + 3);
  const firstPath = /<path class="series-line" d="([^"]+)"/.exec(svg)?.[1] ?? '';
  assert.equal(firstPath.match(/[ML]/g)?.length, 7);
  assert.match(svg, /<text class="point-label"[^>]*>K=200<\/text>/);
});

test('log2 x axis: ticks at powers of two, equally spaced', () => {
  const pos = xTickPositions(renderChart(spec()));
  assert.deepEqual([...pos.keys()], dims.map(String));
  const xs = dims.map((d) => pos.get(String(d)) as number);
  const gaps = xs.slice(1).map((x, i) => x - xs[i]);
  for (const g of gaps) assert.ok(Math.abs(g - gaps[0]) < 0.02, `gaps ${gaps.join(', ')}`);
  assert.ok(gaps[0] > 0);
  // The line's first and last points sit on the 8 and 512 ticks.
  const d = /<path class="series-line" d="M([\d.]+),[\d.]+.*L([\d.]+),[\d.]+"/.exec(renderChart(spec()));
  assert.equal(Number(d?.[1]), xs[0]);
  assert.equal(Number(d?.[2]), xs[xs.length - 1]);
});

test('linear axis: nice tick labels with a fixed number of decimals', () => {
  const svg = renderChart({
    ...spec(),
    x: { label: 'x' },
    series: [
      {
        name: 's',
        points: [
          { x: 0, y: 0.1 },
          { x: 10, y: 0.35 },
        ],
      },
    ],
  });
  const pos = xTickPositions(svg);
  assert.deepEqual([...pos.keys()], ['0', '2', '4', '6', '8', '10']);
  assert.ok(
    Math.abs((pos.get('10') as number) - (pos.get('0') as number) - 5 * ((pos.get('2') as number) - (pos.get('0') as number))) < 0.02,
  );
  assert.match(svg, />0.10<\/text>/);
  assert.match(svg, />0.35<\/text>/);
  assert.deepEqual(niceTicks(0.8, 0.84, 4), [0.8, 0.81, 0.82, 0.83, 0.84]);
});

test('tick labels keep the decimals a step of 2.5 needs', () => {
  const svg = renderChart({
    ...spec(),
    series: [
      {
        name: 's',
        points: [
          { x: 8, y: 0.885 },
          { x: 512, y: 0.895 },
        ],
      },
    ],
    y: { label: 'y', min: 0.885, max: 0.895, ticks: [0.885, 0.8875, 0.89, 0.8925, 0.895] },
  });
  const axis = svg.slice(svg.indexOf('<g class="axis axis-y">'), svg.indexOf('<rect class="frame"'));
  const labels = [...axis.matchAll(/<text class="tick-label"[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
  assert.deepEqual(labels, ['0.8850', '0.8875', '0.8900', '0.8925', '0.8950']);
});

test('text is escaped: title, legend and labels', () => {
  const svg = renderChart(spec());
  assert.match(svg, /<title>mAP@10 &lt;by dim&gt; &amp; &quot;method&quot;<\/title>/);
  assert.match(svg, /data-name="fixed &lt;ff&gt;"/);
  assert.match(svg, /<text class="legend-label"[^>]*>fixed &lt;ff&gt;<\/text>/);
  assert.ok(!svg.includes('<ff>'));
  assert.equal(escapeXml(`a<b>&"c'`), 'a&lt;b&gt;&amp;&quot;c&#39;');
});

test('output is deterministic and a single svg element', () => {
  const a = renderChart(spec());
  assert.equal(a, renderChart(spec()));
  assert.ok(a.startsWith('<svg xmlns="http://www.w3.org/2000/svg"'));
  assert.ok(a.endsWith('</svg>\n'));
  assert.equal(a.match(/<svg/g)?.length, 1);
});

test('a log2 axis rejects values that are not positive', () => {
  assert.throws(() => renderChart({ ...spec(), x: { label: 'x', log2: true, min: 0 } }), /log2 axis needs values > 0/);
});
