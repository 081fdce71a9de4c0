/** The quality guard's report of a collection (GET /collections/:c/quality). */

export type Verdict = 'matryoshka' | 'weak' | 'not-matryoshka';

/** What exact search at one nesting prefix d keeps of exact full-D search. */
export interface PrefixFigures {
  dims: number;
  /** (a) recall@10 of exact search at d against exact full-D. */
  recallAt10: number;
  /** (b) the fraction of the exact full-D top-10 found in the exact top-100 at d. */
  shortlistRecall: number;
  /** (c) the same after a seeded random orthogonal rotation of the sample (no order in the dims). */
  rotatedShortlistRecall: number;
  /** (b − c) / (1 − c): how much of what a random basis loses this prefix keeps. */
  gain: number;
  /** The shortlist a d-dim first stage needs for recall 0.99 after a full-D rerank. */
  shortlistFor099: number | '> 2000';
}

/** What `adapt` keeps of the source's report: the verdict, the gain and recall@10 per prefix. */
export interface AdaptedBefore {
  verdict: Verdict;
  maxGain: number;
  recallAt10: { dims: number; recallAt10: number }[];
}

export interface AuditStage {
  stage: number;
  dims: number;
  source: string;
  recallAt10: number;
  dropped: number;
}
export interface AuditSummary {
  searches: number;
  recallAt10: number | null;
  byStage: AuditStage[];
}

export interface QualityReport {
  collection: string;
  dim: number;
  /** Items in the collection when the report was computed. */
  items: number;
  /** Rows of the sample searched over (the database of the measurement) and queries among them. */
  sampleRows: number;
  queries: number;
  seed: number;
  prefixes: PrefixFigures[];
  /** The largest gain over nesting prefixes d ≤ D/4. */
  maxGain: number;
  verdict: Verdict;
  recommendation: string;
  /** For a collection made by `adapt`: where from, and the source's figures before the rotation. */
  adapted?: { source: string | null; method: string; before: AdaptedBefore | null };
  ms: number;
  createdAt: string;
}

/** The stored report with the live audit beside it. */
export type QualityReply = QualityReport & { audit: AuditSummary; targetRecall: number | null };
