import type { AppContext } from '../context.js';
import { validateId, validateVector } from '../core/validate.js';
import { MrlError } from '../errors.js';
import { embedQuery, type QueryInput } from '../inputs/embed.js';
import type { SearchOptions } from '../search/options.js';
import type { SearchHit } from '../search/hits.js';
import type { Engine } from '../engine/engine.js';
import type { RunResult } from '../engine/search-run.js';
import type { Catalog } from './catalog.js';
import type { ClusterSearchResponse, Reads, SearchExtras, ShardAnswer, ShardSeqs } from './facade.js';
import type { NodeInfo, Registry } from './registry.js';
import { callNode, RemoteError } from './remote.js';
import { shardOf } from './shard.js';

export interface ScatterConfig {
  nodeId: string;
  key: string;
  requestTimeoutMs: number;
  consistencyTimeoutMs: number;
}
/** What a node answers for the shards it serves (POST /cluster/search). */
export interface LocalAnswer extends RunResult {
  node: string;
}
type Target = { id: string; url: string | null };

/**
 * Cluster reads: a search goes to one live replica of each shard (this node for the shards it
 * serves), the answers are merged by score (an id answered twice counts once), and each
 * replica's stages are reported. A replica that fails or times out is replaced by another.
 */
export class Scatter implements Reads {
  private rr = 0;
  constructor(
    private readonly ctx: AppContext,
    private readonly catalog: Catalog,
    private readonly registry: Registry,
    private readonly c: ScatterConfig,
  ) {}

  layout(name: string) {
    const m = this.catalog.metas.get(name);
    return m ? { shards: m.shards, replicas: m.replicas } : undefined;
  }

  /** This node's answer over its own shards, once they applied `after` (CONSISTENCY_TIMEOUT otherwise). */
  async answerLocal(
    name: string,
    vector: unknown,
    opts: SearchOptions,
    after: ShardSeqs = {},
    timeoutMs = this.c.consistencyTimeoutMs,
  ): Promise<LocalAnswer> {
    for (const [shard, seq] of Object.entries(after)) await this.catalog.applier(name, Number(shard))?.waitFor(seq, timeoutMs);
    // no vector: a keyword search (opts.text) over this node's shards
    const r = await this.ctx.engine.search(name, vector === undefined ? {} : { vector }, opts);
    return { results: r.results, stages: r.stages, mode: r.mode, node: this.c.nodeId };
  }

  async search(name: string, query: QueryInput, opts: SearchOptions, extras: SearchExtras = {}): Promise<ClusterSearchResponse> {
    const t0 = performance.now();
    const meta = this.catalog.meta(name);
    const rt = this.ctx.engine.runtime(name);
    const q = (await embedQuery(rt.record, this.ctx.encoders, query)) as { vector?: unknown; id?: unknown };
    const given = ['vector', 'id', 'input'].filter((f) => (q as Record<string, unknown>)[f] !== undefined);
    const keywordOnly = given.length === 0 && opts.text !== undefined;
    if (given.length !== 1 && !keywordOnly) throw new MrlError('VALIDATION', { detail: 'give exactly one of vector, input (q) and id' });
    const exclude = q.id !== undefined ? validateId(q.id) : undefined;
    const vector =
      exclude !== undefined
        ? (await this.getItem(name, exclude)).vector
        : keywordOnly
          ? undefined
          : Array.from(validateVector(q.vector, rt.record.dim, name, 'query vector'));
    const k = this.ctx.engine.plan(rt, opts).k; // validates the options before anything is sent
    const sent =
      exclude !== undefined
        ? { ...opts, k: k + 1, shortlist: opts.shortlist === undefined ? undefined : Math.max(opts.shortlist, k + 1) }
        : opts;
    const after = extras.consistency?.after ?? {};
    const timeoutMs = extras.consistency?.timeoutMs ?? this.c.consistencyTimeoutMs;
    const { answers, missing } = await this.gather(
      name,
      meta.shards,
      (shards, t) => {
        const part = Object.fromEntries(Object.entries(after).filter(([s]) => shards.includes(Number(s))));
        return t.url === null
          ? this.answerLocal(name, vector, sent, part, timeoutMs)
          : callNode<LocalAnswer>(t.url, '/cluster/search', this.c.key, this.c.requestTimeoutMs + timeoutMs, {
              collection: name,
              vector,
              opts: sent,
              after: part,
              timeoutMs,
            });
      },
      extras.allowPartial === true,
    );
    const results = mergeTop(
      answers.map((a) => a.answer.results),
      k,
      exclude,
    );
    const shards: ShardAnswer[] = answers.map((a) => ({ node: a.answer.node, shards: a.shards, ms: a.ms, stages: a.answer.stages }));
    return {
      results,
      stages: mergeStages(shards),
      mode: answers[0]?.answer.mode ?? (keywordOnly ? 'keyword' : 'vector'),
      shards,
      ...(missing.length ? { partial: true, missingShards: missing } : {}),
      ms: performance.now() - t0,
    };
  }

  async getItem(name: string, id: string) {
    const meta = this.catalog.meta(name);
    const shard = shardOf(validateId(id), meta.shards);
    const { answers } = await this.gather(
      name,
      meta.shards,
      (_s, t) =>
        t.url === null
          ? Promise.resolve(this.ctx.engine.getItem(name, id))
          : callNode<ReturnType<Engine['getItem']>>(
              t.url,
              `/cluster/item?collection=${encodeURIComponent(name)}&id=${encodeURIComponent(id)}`,
              this.c.key,
              this.c.requestTimeoutMs,
            ),
      false,
      [shard],
    );
    return answers[0].answer;
  }

  /** Replicas of a shard in preference order: this node, then live peers (rotating, to spread load). */
  private targets(name: string, shard: number): Target[] {
    const self = this.catalog.applier(name, shard);
    const peers = this.registry.replicas(name, shard);
    const start = this.rr++ % Math.max(1, peers.length);
    const rotated = [...peers.slice(start), ...peers.slice(0, start)];
    return [
      ...(self && !self.broken ? [{ id: this.c.nodeId, url: null }] : []),
      ...rotated.map((p: NodeInfo) => ({ id: p.id, url: p.url })),
    ];
  }

  /**
   * Covers `shards` with as few replicas as it can (one already chosen serves every shard it
   * has), asks them in parallel and retries the shards of a failed one on the next replica.
   * A coded client error (4xx) of a peer is the answer; a shard nobody answered is missing
   * (SHARD_UNAVAILABLE unless `partial`).
   */
  private async gather<T>(
    name: string,
    count: number,
    ask: (shards: number[], t: Target) => Promise<T>,
    partial: boolean,
    only?: number[],
  ) {
    let pending = only ?? Array.from({ length: count }, (_, s) => s);
    const failed = new Set<string>();
    const answers: { answer: T; shards: number[]; ms: number }[] = [];
    const missing: number[] = [];
    let lastError: unknown;
    while (pending.length) {
      const plan = new Map<string, { t: Target; shards: number[] }>();
      for (const s of pending) {
        const cands = this.targets(name, s).filter((t) => !failed.has(t.id));
        const t = cands.find((x) => plan.has(x.id)) ?? cands[0];
        if (!t) missing.push(s);
        else if (plan.has(t.id)) plan.get(t.id)!.shards.push(s);
        else plan.set(t.id, { t, shards: [s] });
      }
      pending = [];
      await Promise.all(
        [...plan.values()].map(async ({ t, shards }) => {
          const t0 = performance.now();
          try {
            answers.push({ answer: await ask(shards, t), shards, ms: performance.now() - t0 });
          } catch (err) {
            const own = err instanceof RemoteError ? err.toMrl() : err instanceof MrlError ? err : null;
            // A peer that does not have the collection yet (just created, still loading) is a replica that failed.
            if (own && own.status < 500 && !(err instanceof RemoteError && err.code === 'COLLECTION_NOT_FOUND')) throw own;
            lastError = own ?? err;
            failed.add(t.id);
            pending.push(...shards);
          }
        }),
      );
    }
    if (missing.length && !partial) {
      if (lastError instanceof MrlError && lastError.code === 'CONSISTENCY_TIMEOUT') throw lastError;
      throw new MrlError('SHARD_UNAVAILABLE', { collection: name, shards: missing.sort((a, b) => a - b).join(', ') });
    }
    return { answers, missing: missing.sort((a, b) => a - b) };
  }
}

/** The best `k` hits over every answer, one per id (a shard answered by two replicas counts once). */
export function mergeTop<H extends SearchHit>(lists: H[][], k: number, exclude?: string): H[] {
  const all = lists
    .flat()
    .filter((h) => h.id !== exclude)
    .sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1));
  const seen = new Set<string>();
  const out: H[] = [];
  for (const h of all) {
    if (seen.has(h.id)) continue;
    seen.add(h.id);
    out.push(h);
    if (out.length === k) break;
  }
  return out;
}

/** Stages over all replicas: candidates summed, the slowest replica's time (they ran in parallel). */
function mergeStages(answers: ShardAnswer[]): ShardAnswer['stages'] {
  const first = answers[0]?.stages ?? [];
  if (!answers.every((a) => a.stages.length === first.length)) return first;
  return first.map((s, i) => ({
    ...s,
    candidates: answers.reduce((n, a) => n + a.stages[i].candidates, 0),
    ms: Math.max(...answers.map((a) => a.stages[i].ms)),
  }));
}
