import { setTimeout as sleep } from 'node:timers/promises';
import type { Engine } from '../engine/engine.js';
import type { SearchEvent } from '../engine/hooks.js';
import { runStages } from '../search/run-stages.js';
import { StageContext } from '../search/stage-context.js';
import type { AuditStage, AuditSummary } from './types.js';

/** One audited search: recall of the answer, and per stage what survived of the true top-k. */
export interface AuditRecord {
  collection: string;
  recall: number;
  stages: AuditStage[];
}

const AUDIT_K = 10;
const MAX_QUEUE = 256;
/** Share of one core the audit may use: it sleeps (1/share − 1) × its own run time between audits. */
export const AUDIT_CPU_SHARE = 0.1;
/** Audited searches before a recall below target is worth a warning. */
const WARN_AFTER = 20;
export const DEFAULT_TARGET = 0.99;

interface Totals {
  searches: number;
  recall: number;
  stages: Map<string, AuditStage & { sum: number; n: number }>;
  warned: boolean;
}

/**
 * The live recall audit: a fraction `rate` of searches is queued (deterministically: every
 * 1/rate-th) and re-run off the request path, exactly at full D, one at a time, with sleeps that
 * keep its CPU share at `cpuShare`. Per collection it sums recall@10 of the answers against the
 * exact top 10 and, per stage, how many true neighbours the stage dropped.
 */
export class RecallAudit {
  readonly listeners: ((r: AuditRecord) => void)[] = [];
  private readonly queue: SearchEvent[] = [];
  private readonly totals = new Map<string, Totals>();
  private acc = 0;
  private running: Promise<void> | null = null;
  private stopped = false;
  skipped = 0;

  constructor(
    private readonly engine: Engine,
    readonly rate: number,
    private readonly warn: (msg: string) => void,
    private readonly cpuShare = AUDIT_CPU_SHARE,
  ) {
    engine.hooks.searched.push((e) => this.offer(e));
  }

  private offer(e: SearchEvent): void {
    if (this.stopped || this.rate <= 0) return;
    this.acc += this.rate;
    if (this.acc < 1) return;
    this.acc -= 1;
    if (this.queue.length >= MAX_QUEUE) {
      this.skipped++;
      return;
    }
    this.queue.push(e);
    this.running ??= this.drain().finally(() => (this.running = null));
  }

  /** Resolves once every queued audit has run. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  stop(): Promise<void> {
    this.stopped = true;
    this.queue.length = 0;
    return this.idle();
  }

  summary(collection: string): AuditSummary {
    const t = this.totals.get(collection);
    if (!t) return { searches: 0, recallAt10: null, byStage: [] };
    return {
      searches: t.searches,
      recallAt10: t.recall / t.searches,
      byStage: [...t.stages.values()].map(({ sum, n, ...s }) => ({ ...s, recallAt10: sum / n, dropped: s.dropped })),
    };
  }

  forget(collection: string): void {
    this.totals.delete(collection);
  }

  private async drain(): Promise<void> {
    await sleep(0); // never inside the search's own turn
    for (let e = this.queue.shift(); e && !this.stopped; e = this.queue.shift()) {
      const t0 = performance.now();
      try {
        const r = await this.audit(e);
        if (r) this.record(r);
      } catch {
        // The collection was dropped or is reloading: nothing to audit against.
      }
      const spent = performance.now() - t0;
      await sleep(spent * (1 / this.cpuShare - 1));
    }
  }

  /** Exact full-D top-k, then the answer and each stage's survivors against it. */
  async audit(e: SearchEvent): Promise<AuditRecord | null> {
    const rt = this.engine.runtime(e.collection);
    const deps = { source: rt, vectors: this.engine.items, kernel: this.engine.kernel };
    const k = Math.min(AUDIT_K, e.plan.k);
    const exact = await this.engine.exact(e.collection, e.vector, rt.record.dim, k + 1);
    const truth = exact.seqs.filter((s) => s !== e.exclude).slice(0, k);
    if (truth.length === 0) return null;
    const want = new Set(truth);
    const truthIds = new Set([...this.engine.items.getBySeqs(truth).values()].map((r) => r.id));
    const answer = e.response.results.slice(0, k).filter((h) => truthIds.has(h.id)).length;
    const stages: AuditStage[] = [];
    let before = truth.length;
    for (let i = 0; i < e.plan.stages.length; i++) {
      const st = e.plan.stages[i];
      // The last stage's survivors are the answer; earlier ones are re-run up to that stage.
      const kept =
        i === e.plan.stages.length - 1
          ? answer
          : (await runStages(new StageContext(deps, e.vector, e.exclude), e.plan.stages.slice(0, i + 1))).seqs.filter((s) => want.has(s))
              .length;
      stages.push({ stage: i, dims: st.dims, source: st.source, recallAt10: kept / truth.length, dropped: Math.max(0, before - kept) });
      before = kept;
    }
    return { collection: e.collection, recall: answer / truth.length, stages };
  }

  private record(r: AuditRecord): void {
    let t = this.totals.get(r.collection);
    if (!t) this.totals.set(r.collection, (t = { searches: 0, recall: 0, stages: new Map(), warned: false }));
    t.searches++;
    t.recall += r.recall;
    for (const s of r.stages) {
      const key = `${s.stage}:${s.source}:${s.dims}`;
      let agg = t.stages.get(key);
      if (!agg) t.stages.set(key, (agg = { ...s, recallAt10: 0, dropped: 0, sum: 0, n: 0 }));
      agg.sum += s.recallAt10;
      agg.n++;
      agg.dropped += s.dropped;
    }
    for (const f of this.listeners) f(r);
    const target = this.targetOf(r.collection);
    const mean = t.recall / t.searches;
    if (t.searches >= WARN_AFTER && mean < target && !t.warned) {
      t.warned = true;
      this.warn(
        `collection '${r.collection}': audited recall@10 ${mean.toFixed(3)} over ${t.searches} searches is below its target ${target}`,
      );
    } else if (mean >= target) t.warned = false;
  }

  private targetOf(collection: string): number {
    try {
      return this.engine.runtime(collection).record.searchDefaults.targetRecall ?? DEFAULT_TARGET;
    } catch {
      return DEFAULT_TARGET;
    }
  }
}
