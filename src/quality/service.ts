import type { Engine } from '../engine/engine.js';
import { MrlError } from '../errors.js';
import type { QualityReportStore, RotationStore } from '../store/quality.js';
import { adaptCollection, checkAdapt, localAdaptTarget, type AdaptOptions, type AdaptResult, type AdaptTarget } from './adapt.js';
import { RecallAudit } from './audit.js';
import { dueForReport } from './milestones.js';
import type { SweepOptions } from '../eval/sweep.js';
import type { SweepResult } from '../eval/types.js';
import { pickForRecall } from './recall-target.js';
import { dueForResweep, resweepOptions } from './resweep.js';
import { computeReport, type ReportOptions } from './report.js';
import type { AdaptedBefore, QualityReply, QualityReport, Verdict } from './types.js';

/** What the guard reads of the stored sweeps: the latest, kept parsed until a new one is saved (the store of evaluation runs). */
export interface SweepSource {
  kept<T>(collectionId: number, kind: 'sweep'): T | null;
}
export interface QualityLog {
  warn(msg: string): void;
}

const KEEP_WARNINGS = 50;
/**
 * How long a collection's writes must pause before a due report or re-sweep starts: a report
 * takes seconds of a core (prefix curves of a sample, rotated), which an ingest in full flow
 * needs; it runs when the ingest stops (or between its bursts), once for the milestone reached.
 */
export const QUIET_MS = 1000;
/** Writes that never pause hold a due report back this long at most. */
const MAX_DEFER_MS = 60_000;
type Summary = Pick<QualityReport, 'verdict' | 'maxGain' | 'items' | 'recommendation'>;

/**
 * The quality guard of every collection: stored Matryoshka reports (recomputed in the
 * background at ingest milestones, one at a time, off the search path), the live recall
 * audit, searches to a recall target, and `adapt`.
 */
export class QualityService {
  readonly audit: RecallAudit;
  /** The latest warnings (also sent to `log`). */
  readonly warnings: string[] = [];
  log: QualityLog = { warn: () => undefined };
  /** Runs a sweep (the evaluation service's, set by the app context): re-sweeps of collections with a recall target. */
  resweep?: (opts: SweepOptions) => Promise<unknown>;
  /** Where `adapt` makes its collection: this node, or in cluster mode every node (set by src/cluster/). */
  adaptTarget: AdaptTarget;
  private readonly resweeping = new Map<string, Promise<void>>();
  private readonly resweepFailed = new Set<number>();
  private readonly inFlight = new Map<string, Promise<QualityReport>>();
  private readonly summaries = new Map<number, Summary | null>();
  private readonly warnedIngest = new Set<number>();
  private background: Promise<unknown> = Promise.resolve();
  /** Per collection, the timer that starts a due report once its writes pause (QUIET_MS). */
  private readonly quiet = new Map<string, NodeJS.Timeout>();
  /** When the collection's pending timer was first set (a timer is not pushed back past MAX_DEFER_MS from then). */
  private readonly quietSince = new Map<string, number>();
  private closed = false;

  constructor(
    private readonly engine: Engine,
    private readonly reports: QualityReportStore,
    private readonly rotations: Pick<RotationStore, 'get'>,
    private readonly sweeps: SweepSource,
    auditRate: number,
  ) {
    this.audit = new RecallAudit(engine, auditRate, (m) => this.warn(m));
    this.adaptTarget = localAdaptTarget(engine);
    engine.hooks.upserted.push((name) => this.afterUpsert(name));
    engine.hooks.recallResolver = (rec, target) => pickForRecall(this.latestSweep(rec.id), rec.indexDim, target)?.search ?? null;
  }

  /** The stored report (computed first when there is none, or with `refresh`), with the audit. */
  async report(collection: string, opts: ReportOptions & { refresh?: boolean } = {}): Promise<QualityReply> {
    const rec = this.engine.runtime(collection).record;
    let r = opts.refresh || opts.sample !== undefined || opts.seed !== undefined ? null : this.reports.latest<QualityReport>(rec.id);
    r ??= await this.compute(collection, opts);
    return { ...r, audit: this.audit.summary(collection), targetRecall: rec.searchDefaults.targetRecall ?? null };
  }

  /** The stored verdict of a collection, if any (GET /collections). */
  verdict(collectionId: number): { verdict: Verdict; maxGain: number; items: number } | null {
    const r = this.summary(collectionId);
    return r ? { verdict: r.verdict, maxGain: r.maxGain, items: r.items } : null;
  }

  /** The stored report's headline, cached (read on every upsert and every listing). */
  private summary(collectionId: number): Summary | null {
    let r = this.summaries.get(collectionId);
    if (r === undefined) {
      const full = this.reports.latest<QualityReport>(collectionId);
      r = full ? { verdict: full.verdict, maxGain: full.maxGain, items: full.items, recommendation: full.recommendation } : null;
      this.summaries.set(collectionId, r);
    }
    return r;
  }

  /** Computes and stores a report; a second call for the same collection waits for the first. */
  compute(collection: string, opts: ReportOptions = {}): Promise<QualityReport> {
    const running = this.inFlight.get(collection);
    if (running) return running;
    const p = (async () => {
      const r: QualityReport = await computeReport(this.engine, collection, opts);
      const rt = this.engine.runtime(collection); // still there?
      const rot = this.rotations.get(rt.record.id);
      if (rot) r.adapted = { source: rot.source, method: rot.method, before: (rot.before as AdaptedBefore | undefined) ?? null };
      this.reports.save(rt.record.id, r.items, r);
      this.summaries.delete(rt.record.id);
      return r;
    })().finally(() => this.inFlight.delete(collection));
    this.inFlight.set(collection, p);
    return p;
  }

  /** Fits a PCA rotation into a new collection, then reports both (recall@10 of each prefix before and after). */
  async adapt(collection: string, opts: AdaptOptions): Promise<AdaptResult & { before: QualityReport; after: QualityReport }> {
    checkAdapt(this.engine, collection, opts); // a refused request computes nothing
    const before = await this.report(collection);
    const summary: AdaptedBefore = {
      verdict: before.verdict,
      maxGain: before.maxGain,
      recallAt10: before.prefixes.map((p) => ({ dims: p.dims, recallAt10: p.recallAt10 })),
    };
    const res = await adaptCollection(this.engine, collection, opts, summary, this.adaptTarget);
    const after = await this.compute(opts.target, { seed: before.seed, sample: before.queries });
    const strip = ({ audit: _a, targetRecall: _t, ...r }: QualityReply) => r;
    return { ...res, before: strip(before), after };
  }

  /** Resolves once background reports and queued audits are done. */
  async idle(): Promise<void> {
    for (const [name, timer] of [...this.quiet]) {
      clearTimeout(timer);
      this.quiet.delete(name);
      this.runDue(name);
    }
    // A finished report may queue the next (a milestone crossed meanwhile): wait until none is queued.
    for (let seen: Promise<unknown> | null = null; seen !== this.background;) await (seen = this.background);
    await Promise.all(this.inFlight.values());
    await Promise.all(this.resweeping.values());
    await this.audit.idle();
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.quiet.values()) clearTimeout(timer);
    this.quiet.clear();
    await this.audit.stop();
    await this.background.catch(() => undefined);
    await Promise.allSettled([...this.inFlight.values(), ...this.resweeping.values()]);
  }

  private afterUpsert(name: string): void {
    if (this.closed) return;
    const rt = this.engine.runtime(name);
    const stored = this.summary(rt.record.id);
    const { dim, indexDim, id } = rt.record;
    if (stored?.verdict === 'not-matryoshka' && indexDim < dim / 2 && !this.warnedIngest.has(id)) {
      this.warnedIngest.add(id);
      this.warn(
        `collection '${name}' is not Matryoshka (gain ${stored.maxGain.toFixed(2)}) but its index reads ${indexDim} of ${dim} dims: ${stored.recommendation}`,
      );
    }
    const timer = this.quiet.get(name);
    const now = performance.now();
    if (timer && now - this.quietSince.get(name)! > MAX_DEFER_MS) return; // it fires as set
    if (timer) clearTimeout(timer);
    else this.quietSince.set(name, now);
    const next = setTimeout(() => {
      this.quiet.delete(name);
      this.runDue(name);
    }, QUIET_MS);
    next.unref();
    this.quiet.set(name, next);
  }

  /** Starts what the collection's size makes due: a re-sweep (with a recall target), a report at a milestone. */
  private runDue(name: string): void {
    if (this.closed || !this.engine.isLoaded(name)) return;
    const rt = this.engine.runtime(name);
    const stored = this.summary(rt.record.id);
    if (rt.record.searchDefaults.targetRecall !== undefined) this.maybeResweep(name, rt.record.id, rt.count);
    if (!this.inFlight.has(name) && dueForReport(rt.count, stored?.items ?? null)) {
      // Chained: one background report at a time; errors (a drop meanwhile) are only logged.
      this.background = this.background.then(() =>
        this.compute(name).then(
          // An ingest that crossed the next milestone while this report ran has its report now, not at a later upsert.
          () => this.engine.isLoaded(name) && this.runDue(name),
          (err: unknown) => {
            if (!(err instanceof MrlError && err.code === 'COLLECTION_NOT_FOUND'))
              this.warn(`quality report of '${name}' failed: ${(err as Error).message}`);
          },
        ),
      );
    }
  }

  /** A background sweep over the latest one's grid once the collection has doubled since (one at a time per collection). */
  private maybeResweep(name: string, id: number, count: number): void {
    const prev = this.latestSweep(id);
    if (!this.resweep || this.resweeping.has(name) || !dueForResweep(count, prev)) return;
    const run = this.resweep(resweepOptions(name, prev!))
      .then(
        () => void this.resweepFailed.delete(id),
        (err: unknown) => {
          const busy = err instanceof MrlError && (err.code === 'EVAL_BUSY' || err.code === 'COLLECTION_NOT_FOUND');
          if (!busy && !this.resweepFailed.has(id)) this.warn(`re-sweep of '${name}' failed: ${(err as Error).message}`);
          if (!busy) this.resweepFailed.add(id);
        },
      )
      .finally(() => this.resweeping.delete(name));
    this.resweeping.set(name, run);
  }

  private latestSweep(collectionId: number): SweepResult | null {
    return this.sweeps.kept<SweepResult>(collectionId, 'sweep');
  }

  private warn(msg: string): void {
    this.warnings.push(msg);
    if (this.warnings.length > KEEP_WARNINGS) this.warnings.shift();
    this.log.warn(msg);
  }
}
