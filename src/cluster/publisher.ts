import { randomUUID } from 'node:crypto';
import { headers } from 'nats';
import type { AppContext } from '../context.js';
import { validateId } from '../core/validate.js';
import { buildCollectionRecord } from '../engine/collection-spec.js';
import { mrlError, MrlError } from '../errors.js';
import { withEncoderShape } from '../inputs/collection-spec.js';
import { embedInputs, type ItemInput } from '../inputs/embed.js';
import type { Catalog } from './catalog.js';
import { encodeOp, vectorToB64, type LogOp } from './codec.js';
import type { ItemPatchInput, ShardSeqs, Writes } from './facade.js';
import { retry, subjectOf, type Nats } from './nats.js';
import { shardOf } from './shard.js';

/** A message stays well under nats-server's default max_payload (1 MiB). */
const MAX_MESSAGE_BYTES = 512 * 1024;
const STREAM_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
type Entry = Extract<LogOp, { op: 'upsert' }>['items'][number];

/**
 * Cluster writes: validated exactly as on one node (embedded here, so replicas need no model),
 * split by shard into messages, published with a message id (a retried publish is stored once),
 * acknowledged after JetStream stored each message on a quorum of its replicas.
 */
export class Publisher implements Writes {
  constructor(
    private readonly ctx: AppContext,
    private readonly n: Nats,
    private readonly catalog: Catalog,
    private readonly nodeId: string,
    private readonly waitMs: number,
    /** A write that JetStream has not acknowledged within this bound fails (503 CLUSTER_UNAVAILABLE), never half-acknowledged. */
    private readonly writeTimeoutMs: number,
  ) {}

  async createCollection(spec: Parameters<Writes['createCollection']>[0]) {
    const { shards = 1, replicas = this.n.replicas, ...rest } = spec;
    const full = withEncoderShape(rest, this.ctx.encoders);
    const rec = buildCollectionRecord(full); // validates as on one node
    checkClusterName(rec.name);
    if (!Number.isInteger(shards) || (shards as number) < 1 || (shards as number) > 256)
      throw mrlError('INVALID_COLLECTION', 'shards must be an integer in 1..256');
    if (!Number.isInteger(replicas) || (replicas as number) < 1 || (replicas as number) > 5)
      throw mrlError('INVALID_COLLECTION', 'replicas must be an integer in 1..5');
    const meta = await this.catalog.create({ ...full, name: rec.name, dim: rec.dim }, shards as number, replicas as number);
    return { ...this.ctx.engine.runtime(rec.name).record, shards: meta.shards, replicas: meta.replicas };
  }

  dropCollection(name: string): Promise<void> {
    return this.catalog.drop(name);
  }

  async upsert(name: string, items: ItemInput[], opts: { wait?: boolean } = {}) {
    const meta = this.catalog.meta(name);
    const rec = this.ctx.engine.runtime(name).record;
    if (!Array.isArray(items)) throw mrlError('VALIDATION', 'items must be an array');
    // embedded and validated exactly as on one node; nothing is written here
    const prepared = await this.ctx.engine.prepare(name, await embedInputs(rec, this.ctx.encoders, items));
    const entries: Entry[] = prepared.map((it) => ({
      id: it.id,
      v: vectorToB64(it.vector),
      label: it.label,
      payload: it.payload,
      text: it.text,
    }));
    const perShard = groupBy(entries, (e) => shardOf(e.id, meta.shards));
    const msgs: { shard: number; op: LogOp }[] = [];
    for (const [shard, entries] of perShard) for (const part of chunks(entries)) msgs.push({ shard, op: { op: 'upsert', items: part } });
    const seqs = await this.publishAll(name, msgs, opts.wait === true);
    return { upserted: entries.length, seqs };
  }

  async deleteItem(name: string, id: string) {
    const meta = this.catalog.meta(name);
    validateId(id);
    await this.ctx.reads.getItem(name, id); // ITEM_NOT_FOUND from the shard's replica
    const seqs = await this.publishAll(name, [{ shard: shardOf(id, meta.shards), op: { op: 'delete', ids: [id] } }], false);
    return { deleted: 1, seqs };
  }

  /** A patch is logged once a replica of the id's shard confirmed the item; the reply is the item as the patch leaves it. */
  async patchItem(name: string, id: string, patch: ItemPatchInput) {
    const meta = this.catalog.meta(name);
    const { key, p } = this.ctx.engine.preparePatch(name, id, patch);
    const item = await this.ctx.reads.getItem(name, key);
    await this.publishAll(name, [{ shard: shardOf(key, meta.shards), op: { op: 'patch', id: key, patch: p } }], true);
    return {
      ...item,
      ...(p.label !== undefined ? { label: p.label } : {}),
      ...(p.payload !== undefined ? { payload: p.payload === null ? null : (JSON.parse(p.payload) as unknown) } : {}),
      ...(p.text !== undefined ? { text: p.text } : {}),
    };
  }

  /** Changes this node's collection (validated against its rows), then the cluster's metadata: the other nodes follow. */
  async setIndexedFields(name: string, fields: unknown) {
    this.catalog.meta(name);
    const rec = this.ctx.engine.setIndexedFields(name, fields);
    await this.catalog.publishTuning(name);
    return rec;
  }

  tuned(name: string): Promise<void> {
    return this.catalog.publishTuning(name);
  }

  /** Publishes every message (same-shard messages in order), then waits for this node to apply them when asked. */
  private async publishAll(name: string, msgs: { shard: number; op: LogOp }[], wait: boolean): Promise<ShardSeqs> {
    const batch = randomUUID();
    const end = Date.now() + this.writeTimeoutMs;
    const acks = await Promise.all(
      msgs.map(({ shard, op }, i) => {
        const h = headers();
        h.set('Nats-Msg-Id', `${this.nodeId}.${batch}.${i}`);
        const data = encodeOp(op);
        // each attempt is bounded by what is left of the write's bound (without a quorum, none answers)
        const timeout = () => Math.max(200, Math.min(5000, end - Date.now()));
        return retry(
          () => this.n.js.publish(subjectOf(name, shard), data, { headers: h, timeout: timeout() }),
          `cannot log the write to shard ${shard}`,
          10,
          this.writeTimeoutMs,
        ).then((ack) => ({ shard, seq: ack.seq }));
      }),
    );
    const seqs: ShardSeqs = {};
    for (const a of acks) seqs[String(a.shard)] = Math.max(seqs[String(a.shard)] ?? 0, a.seq);
    if (wait) {
      for (const [shard, seq] of Object.entries(seqs)) await this.catalog.applier(name, Number(shard))?.waitFor(seq, this.waitMs);
    }
    return seqs;
  }
}

/** In cluster mode a collection name is also part of NATS subjects and stream names. */
export function checkClusterName(name: string): void {
  if (!STREAM_NAME_RE.test(name))
    throw mrlError('INVALID_COLLECTION', 'in cluster mode a collection name is letters, digits, _ and - (it names NATS subjects)');
}

function groupBy<T>(xs: T[], key: (x: T) => number): Map<number, T[]> {
  const m = new Map<number, T[]>();
  for (const x of xs) {
    const k = key(x);
    const list = m.get(k);
    if (list) list.push(x);
    else m.set(k, [x]);
  }
  return m;
}

/** Splits a shard's entries into messages under MAX_MESSAGE_BYTES. */
function* chunks(entries: Entry[]): Generator<Entry[]> {
  let part: Entry[] = [];
  let bytes = 0;
  for (const e of entries) {
    const size = e.id.length + e.v.length + (e.label?.length ?? 0) + (e.payload?.length ?? 0) + 64;
    if (size > MAX_MESSAGE_BYTES)
      throw new MrlError('PAYLOAD_TOO_LARGE', { detail: `item '${e.id}' is larger than a log message (${MAX_MESSAGE_BYTES} bytes)` });
    if (bytes + size > MAX_MESSAGE_BYTES && part.length) {
      yield part;
      part = [];
      bytes = 0;
    }
    part.push(e);
    bytes += size;
  }
  if (part.length) yield part;
}
