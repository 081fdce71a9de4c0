import type { PrefixFigures, Verdict } from './types.js';

/** Gain thresholds over nesting prefixes d ≤ D/4 (issue "Quality guard"). */
export const MATRYOSHKA_GAIN = 0.5;
export const NOT_MATRYOSHKA_GAIN = 0.15;
/** A shortlist larger than this makes a prefix index pointless in practice. */
const USEFUL_SHORTLIST = 1000;

/** (b − c) / (1 − c); 0 when the random basis already finds everything (nothing to gain). */
export function gainOf(b: number, c: number): number {
  return c >= 1 ? 0 : (b - c) / (1 - c);
}

/**
 * True neighbours the random basis must miss at d for that prefix's gain to count: where it
 * misses almost none, (1 − c) is a handful of neighbours and the gain is noise.
 */
export const MIN_BASELINE_MISSES = 20;

/**
 * The largest gain over the nesting prefixes d ≤ D/4 whose random-basis misses (1 − c) · 10 ·
 * queries are at least MIN_BASELINE_MISSES; when none is, the smallest prefix's gain; −∞ when
 * there is no prefix d ≤ D/4 at all.
 */
export function maxGain(prefixes: PrefixFigures[], dim: number, queries = Infinity): number {
  const short = prefixes.filter((p) => p.dims < dim && p.dims <= dim / 4);
  if (short.length === 0) return -Infinity;
  const measurable = short.filter((p) => (1 - p.rotatedShortlistRecall) * 10 * queries >= MIN_BASELINE_MISSES - 1e-9);
  if (measurable.length === 0) return short[0].gain;
  return Math.max(...measurable.map((p) => p.gain));
}

export function verdictOf(gain: number): Verdict {
  if (gain >= MATRYOSHKA_GAIN) return 'matryoshka';
  if (gain < NOT_MATRYOSHKA_GAIN) return 'not-matryoshka';
  return 'weak';
}

/** One line: the index dims and shortlist to use, or how to make the collection usable. */
export function recommend(collection: string, verdict: Verdict, prefixes: PrefixFigures[], dim: number): string {
  const usable = prefixes.filter((p) => p.dims < dim && typeof p.shortlistFor099 === 'number' && p.shortlistFor099 <= USEFUL_SHORTLIST);
  const adapt = `POST /collections/${collection}/adapt {"target": "${collection}-pca", "method": "pca"}`;
  if (verdict === 'matryoshka') {
    const p = usable.find((x) => x.dims <= dim / 4) ?? usable[0];
    if (p) return `Matryoshka: index at ${p.dims} dims with a shortlist of ${p.shortlistFor099} reaches recall 0.99 after a full-D rerank.`;
    return `Matryoshka ordering, but no prefix reaches recall 0.99 with a shortlist ≤ ${USEFUL_SHORTLIST}: index at ${dim / 2 >= 1 ? Math.ceil(dim / 2) : dim} dims or more.`;
  }
  const p = usable.find((x) => x.dims >= dim / 2);
  const where = p ? `index at ${p.dims} dims (shortlist ${p.shortlistFor099})` : `index at the full ${dim} dims`;
  if (verdict === 'weak') return `Weakly ordered: short prefixes lose neighbours; ${where}, or make it Matryoshka: ${adapt}.`;
  return `Not Matryoshka: a prefix keeps no more than under a random rotation; ${where}, or make it Matryoshka: ${adapt}.`;
}
