import { defaultNesting } from '../core/prefix.js';
import { RESIDENT_TYPES, type ResidentType } from '../core/quantize.js';
import { validateCollectionName } from '../core/validate.js';
import { mrlError } from '../errors.js';
import type { NewCollection } from '../store/collections.js';
import { FIELD_PATH } from '../store/field-indexes.js';

export const MAX_DIM = 8192;

export interface CollectionSpec {
  name: unknown;
  dim?: unknown;
  indexDim?: unknown;
  rerankDim?: unknown;
  residentDim?: unknown;
  /** 'f32' (default), 'f16' or 'int8': how the resident rerank rows are held. */
  residentType?: unknown;
  nesting?: unknown;
  encoder?: unknown;
  hnsw?: { m?: unknown; efConstruction?: unknown; efSearch?: unknown };
  indexedFields?: unknown;
  storeText?: unknown;
  /** Recall@10 searches aim for by default (the quality guard picks the configuration from the latest sweep). */
  targetRecall?: unknown;
}

/** At most this many indexed payload fields per collection (each is one SQLite index). */
export const MAX_INDEXED_FIELDS = 16;

/** `indexedFields`: distinct payload paths (`year`, `meta.lang`), at most MAX_INDEXED_FIELDS. */
export function validateIndexedFields(v: unknown): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || v.length > MAX_INDEXED_FIELDS)
    throw mrlError('INVALID_COLLECTION', `indexedFields must be a list of at most ${MAX_INDEXED_FIELDS} payload paths`);
  for (const [i, f] of v.entries()) {
    if (typeof f !== 'string' || !FIELD_PATH.test(f))
      throw mrlError(
        'INVALID_COLLECTION',
        `indexedFields[${i}] must be a payload path like 'year' or 'meta.lang' (letters, digits, _ and -, dots for nesting)`,
      );
  }
  return [...new Set(v as string[])];
}

function storeText(v: unknown): boolean {
  if (v === undefined) return true;
  if (typeof v !== 'boolean') throw mrlError('INVALID_COLLECTION', 'storeText must be true or false');
  return v;
}

function int(v: unknown, name: string, lo: number, hi: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi)
    throw mrlError('INVALID_COLLECTION', `${name} must be an integer in ${lo}..${hi}`);
  return v;
}

/** Validates a create request and fills the defaults: D_s = min(32, D), D_r = min(512, D), R = D_r. */
export function buildCollectionRecord(spec: CollectionSpec): NewCollection {
  const name = validateCollectionName(spec.name);
  const dim = int(spec.dim, 'dim', 1, MAX_DIM);
  const indexDim = int(spec.indexDim ?? Math.min(32, dim), 'indexDim', 1, dim);
  const rerankDim = int(spec.rerankDim ?? Math.min(512, dim), 'rerankDim', 1, dim);
  const residentDim = int(spec.residentDim ?? rerankDim, 'residentDim', 1, dim);
  let nesting = defaultNesting(dim);
  if (spec.nesting !== undefined) {
    if (!Array.isArray(spec.nesting) || spec.nesting.length === 0 || spec.nesting.length > 64)
      throw mrlError('INVALID_COLLECTION', 'nesting must be a list of dims');
    nesting = [...new Set(spec.nesting.map((d, i) => int(d, `nesting[${i}]`, 1, dim)))].sort((a, b) => a - b);
  }
  if (spec.encoder !== undefined && spec.encoder !== null && typeof spec.encoder !== 'string')
    throw mrlError('INVALID_COLLECTION', 'encoder must be a model name');
  const residentType = (spec.residentType ?? 'f32') as ResidentType;
  if (!RESIDENT_TYPES.includes(residentType))
    throw mrlError('INVALID_COLLECTION', `residentType must be one of ${RESIDENT_TYPES.join(', ')}`);
  const h = spec.hnsw ?? {};
  const t = spec.targetRecall;
  if (t !== undefined && (typeof t !== 'number' || !(t > 0 && t <= 1)))
    throw mrlError('INVALID_COLLECTION', 'targetRecall must be a number in (0, 1]');
  return {
    name,
    dim,
    indexDim,
    rerankDim,
    residentDim,
    residentType,
    nesting,
    distance: 'cosine',
    encoder: (spec.encoder as string | undefined) ?? null,
    hnsw: {
      m: int(h.m ?? 16, 'hnsw.m', 2, 128),
      efConstruction: int(h.efConstruction ?? 100, 'hnsw.efConstruction', 8, 2000),
      efSearch: int(h.efSearch ?? 64, 'hnsw.efSearch', 1, 10000),
    },
    searchDefaults: t === undefined ? {} : { targetRecall: t },
    indexedFields: validateIndexedFields(spec.indexedFields),
    storeText: storeText(spec.storeText),
  };
}
