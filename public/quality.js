// The quality section of the page: is the collection Matryoshka (GET /collections/:c/quality),
// as a chart of what each prefix keeps against a random basis, the verdict and the live audit.
// Plain DOM; every value from the API goes in as text, never as HTML.
import { chart, legend } from './plot.js';

const f3 = (n) => Number(n).toFixed(3);

/** The chart: shortlist recall (top-10 of full D inside the top-100 at d) per prefix, as is and rotated, and recall@10. */
export function qualityChart(report) {
  const pts = [...report.prefixes].sort((a, b) => a.dims - b.dims);
  const title = (p) =>
    `${p.dims} dims: shortlist recall ${f3(p.shortlistRecall)} (random basis ${f3(p.rotatedShortlistRecall)}), gain ${f3(p.gain)}, recall@10 ${f3(p.recallAt10)}, shortlist for 0.99: ${p.shortlistFor099}`;
  const svg = chart({
    x: { label: 'prefix dims (log₂)', log2: true },
    y: { label: 'recall', zero: true, max: 1 },
    layers: [
      { points: pts.map((p) => ({ x: p.dims, y: p.rotatedShortlistRecall, title: title(p) })), line: true, cls: 'series-muted' },
      { points: pts.map((p) => ({ x: p.dims, y: p.recallAt10, title: title(p) })), line: true, shape: 'square', cls: 'series-exact' },
      {
        points: pts.map((p) => ({
          x: p.dims,
          y: p.shortlistRecall,
          title: title(p),
          note: p.dims < report.dim ? `gain ${p.gain.toFixed(2)}` : undefined,
        })),
        line: true,
        cls: 'series-a',
      },
    ],
  });
  return [
    svg,
    legend([
      { label: 'top-10 in top-100 at d', cls: 'series-a', line: true },
      { label: 'the same, random basis', cls: 'series-muted', line: true },
      { label: 'recall@10 at d', cls: 'series-exact', shape: 'square', line: true },
    ]),
  ];
}

/** Verdict, recommendation and the audit, as paragraphs. */
export function qualitySummary(report, h) {
  const out = [
    h(
      'p',
      { class: 'verdict', 'data-verdict': report.verdict },
      h('b', {}, report.verdict),
      ` · largest gain at d ≤ D/4: ${report.maxGain.toFixed(2)} · `,
      report.recommendation,
    ),
    h(
      'p',
      { class: 'muted' },
      `${report.queries} leave-one-out queries over ${report.sampleRows} of ${report.items} items, ${new Date(report.createdAt).toLocaleString()}`,
    ),
  ];
  const a = report.audit;
  if (a && a.searches > 0) {
    const stages = a.byStage
      .map((s) => `${s.stage + 1}. ${s.source} ${s.dims}d keeps ${f3(s.recallAt10)} (dropped ${s.dropped})`)
      .join(' · ');
    out.push(
      h('p', { class: 'audit' }, `Live audit: ${a.searches} searches, recall@10 ${f3(a.recallAt10)}${stages ? ` — ${stages}` : ''}`),
    );
  } else {
    out.push(
      h('p', { class: 'muted audit' }, 'Live audit: no audited searches yet (MRL_AUDIT_RATE of searches are re-run exactly at full D).'),
    );
  }
  return out;
}
