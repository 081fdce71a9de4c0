import type { Kernel } from '../compute/kernel.js';
import { mrlError } from '../errors.js';
import type { FilterNode } from '../search/filter/ast.js';
import { matchFilter } from '../search/filter/match.js';
import { compileFilter, type CompiledFilter } from '../search/filter/sql.js';
import { parseFilter } from '../search/filter/parse.js';
import { searchFiltered, type FilterReport } from '../search/filter/filtered-search.js';
import { toHits, type SearchHit } from '../search/hits.js';
import { fuse, type FusedHit } from '../search/hybrid/fuse.js';
import { matchExpression } from '../search/hybrid/keyword.js';
import type { Plan, SearchOptions } from '../search/options.js';
import { resolveQuery, type Query } from '../search/query.js';
import { searchVector, type SearchDeps, type SearchResult } from '../search/search.js';
import type { RowsBySeq, SearchSource } from '../search/sources.js';
import type { CollectionRecord } from '../store/collections.js';
import type { ItemStore } from '../store/items.js';

/** The keyword list's report: how many hits it gave and how long it took. */
export interface KeywordReport {
  candidates: number;
  ms: number;
}
/** A search's answer: hits (with each list's rank and score in a hybrid or keyword search) and how it ran. */
export interface RunResult extends SearchResult {
  results: (SearchHit | FusedHit)[];
  filter?: FilterReport;
  keyword?: KeywordReport;
  mode: 'vector' | 'keyword' | 'hybrid';
}

const DEFAULT_CANDIDATES = 100;

export interface RunDeps {
  items: ItemStore;
  /** Result rows for hits (the engine's cache over `items`). */
  rows: RowsBySeq;
  kernel: Kernel;
  source: SearchSource;
  record: CollectionRecord;
  plan: (o: SearchOptions) => Plan;
  /** A raw query vector as the collection stores it (rotated when `adapt` bound a rotation to it). */
  toStored?: (v: Float32Array) => Float32Array;
  /** Told of each plain vector search as it ran, in the collection's space (the recall audit). */
  observe?: (vector: Float32Array, exclude: number | undefined, plan: Plan, result: SearchResult) => void;
}

/** True when the query names a vector or a stored item (an input was embedded into a vector before). */
function hasVectorQuery(q: Query): boolean {
  const f = (typeof q === 'object' && q !== null ? q : {}) as Record<string, unknown>;
  return f.vector !== undefined || f.id !== undefined || f.input !== undefined;
}

/**
 * One search of any form: vector (or id) alone, with a filter or not; keyword alone (BM25);
 * or hybrid (both lists `candidates` deep, fused). Throws the coded 400s before reading anything.
 */
export async function runSearch(d: RunDeps, query: Query, opts: SearchOptions): Promise<RunResult> {
  const node = opts.filter === undefined ? undefined : parseFilter(opts.filter);
  const filter = node && compileFilter(node, new Set(d.record.indexedFields));
  const match = opts.text === undefined ? undefined : matchExpression(opts.text, opts.textSyntax);
  if (match === undefined) return { ...(await vectorList(d, query, opts, node, node ? undefined : d.observe)), mode: 'vector' };
  const k = d.plan({ k: opts.k }).k;
  if (!hasVectorQuery(query)) {
    const kw = keywordList(d, match, k, filter);
    return {
      results: kw.hits.map((h, i) => ({ ...h, sources: { text: { rank: i + 1, score: h.score } } })),
      stages: [],
      keyword: kw.report,
      mode: 'keyword',
    };
  }
  const candidates = opts.candidates ?? Math.max(DEFAULT_CANDIDATES, k);
  if (!Number.isInteger(candidates) || candidates < k || candidates > 1000)
    throw mrlError('INVALID_SEARCH', `candidates must be an integer in k (${k})..1000`);
  fuse([], [], opts.fusion); // checks the fusion before any work
  const v = await vectorList(d, query, { ...opts, k: candidates }, node);
  const exclude = v.excludeId;
  const kw = keywordList(d, match, candidates + (exclude === undefined ? 0 : 1), filter);
  const text = kw.hits.filter((h) => h.id !== exclude).slice(0, candidates);
  return { results: fuse(v.results, text, opts.fusion, k), stages: v.stages, filter: v.filter, keyword: kw.report, mode: 'hybrid' };
}

async function vectorList(
  d: RunDeps,
  query: Query,
  opts: SearchOptions,
  filter?: FilterNode,
  observe?: RunDeps['observe'],
): Promise<SearchResult & { filter?: FilterReport; excludeId?: string }> {
  const resolved = resolveQuery(d.record, d.items, query);
  const exclude = resolved.exclude;
  const vector = exclude === undefined && d.toStored ? d.toStored(resolved.vector) : resolved.vector;
  const plan = d.plan(opts);
  const deps: SearchDeps = { source: d.source, vectors: d.items, rows: d.rows, kernel: d.kernel };
  const excludeId = exclude === undefined ? undefined : String((query as { id: unknown }).id);
  if (!filter) {
    const r = await searchVector(deps, vector, plan, exclude);
    observe?.(vector, exclude, plan, r);
    return { ...r, excludeId };
  }
  const matched = matchFilter(d.items, d.record, filter);
  return { ...(await searchFiltered(deps, vector, plan, matched, exclude, opts.filterExactBelow)), excludeId };
}

function keywordList(d: RunDeps, match: string, limit: number, filter?: CompiledFilter): { hits: SearchHit[]; report: KeywordReport } {
  const t0 = performance.now();
  const found = d.items.text.search(d.record.id, match, limit, filter);
  const hits = toHits(d.rows, { seqs: found.map((h) => h.seq), scores: found.map((h) => h.score) }, limit);
  return { hits, report: { candidates: found.length, ms: performance.now() - t0 } };
}
