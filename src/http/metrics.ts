import client from 'prom-client';
import type { EncoderRegistry } from '../encoders/registry.js';
import type { Engine } from '../engine/engine.js';
import type { QualityService } from '../quality/service.js';

/** One registry per app (so tests can build several apps): request, search-stage and collection metrics. */
export function createMetrics(engine: Engine, encoders: EncoderRegistry, quality?: QualityService) {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry, prefix: 'mrl_' });
  const requestSeconds = new client.Histogram({
    name: 'mrl_http_request_duration_seconds',
    help: 'HTTP request latency by route',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
  });
  const stageSeconds = new client.Histogram({
    name: 'mrl_search_stage_duration_seconds',
    help: 'time in each search stage',
    labelNames: ['collection', 'source', 'dims'] as const,
    registers: [registry],
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5],
  });
  const fill = (g: client.Gauge<'collection'>, f: (name: string) => number) => {
    g.reset();
    for (const c of engine.listCollections()) {
      if (engine.isLoaded(c.name)) g.set({ collection: c.name }, f(c.name));
    }
  };
  const perCollection = (name: string, help: string, read: (collection: string) => number) =>
    new client.Gauge({
      name,
      help,
      labelNames: ['collection'] as const,
      registers: [registry],
      collect() {
        fill(this, read);
      },
    });
  perCollection('mrl_collection_items', 'live items per collection', (n) => engine.runtime(n).count);
  perCollection('mrl_index_bytes', 'approximate memory of the prefix HNSW index', (n) => engine.runtime(n).index.bytes);
  perCollection('mrl_matrix_bytes', 'memory of the resident rerank matrix', (n) => engine.runtime(n).matrix.bytes);
  // Encoder counters, read from the registry when scraped (counters set to its running totals).
  const total = (name: string, help: string, read: () => number) =>
    new client.Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(read());
      },
    });
  total('mrl_embed_cache_hits_total', 'query embeddings served from the cache', () => encoders.cache.hits);
  total('mrl_embed_cache_misses_total', 'query embeddings not in the cache (computed)', () => encoders.cache.misses);
  total('mrl_embed_batches_total', 'encoder launches (each serves one or more concurrent embed calls)', () =>
    encoders.status().reduce((s, e) => s + (e.batch?.launches ?? 0), 0),
  );
  total('mrl_embed_batched_calls_total', 'embed calls served by those launches', () =>
    encoders.status().reduce((s, e) => s + (e.batch?.calls ?? 0), 0),
  );
  if (quality) auditMetrics(registry, quality);
  return { registry, requestSeconds, stageSeconds };
}

/** The live recall audit (src/quality/audit.ts): searches audited, their recall, neighbours each stage dropped. */
function auditMetrics(registry: client.Registry, quality: QualityService): void {
  const searches = new client.Counter({
    name: 'mrl_audit_searches_total',
    help: 'searches re-run exactly at full D by the recall audit',
    labelNames: ['collection'] as const,
    registers: [registry],
  });
  const recall = new client.Histogram({
    name: 'mrl_audit_recall_at_10',
    help: 'recall@10 of audited answers against exact full-D search',
    labelNames: ['collection'] as const,
    registers: [registry],
    buckets: [0.5, 0.7, 0.8, 0.9, 0.95, 0.99, 1],
  });
  const dropped = new client.Counter({
    name: 'mrl_audit_dropped_neighbours_total',
    help: 'true top-10 neighbours an audited search lost, by stage',
    labelNames: ['collection', 'stage', 'source', 'dims'] as const,
    registers: [registry],
  });
  quality.audit.listeners.push((a) => {
    searches.inc({ collection: a.collection });
    recall.observe({ collection: a.collection }, a.recall);
    for (const s of a.stages)
      dropped.inc({ collection: a.collection, stage: String(s.stage), source: s.source, dims: String(s.dims) }, s.dropped);
  });
}

export type Metrics = ReturnType<typeof createMetrics>;
