import type { Db } from './db.js';
import type { ResidentType } from '../core/quantize.js';
import { MrlError } from '../errors.js';
import { checkStoredIndexable, syncFieldIndexes } from './field-indexes.js';

/**
 * A collection's default search configuration (set by `eval --sweep --apply`, or by hand).
 * `refine`: how many of the best candidates a final stage rescores from the full vectors.
 */
export interface SearchDefaults {
  k?: number;
  shortlist?: number;
  rerank?: number;
  ef?: number;
  funnel?: { dims: number; keep: number }[];
  refine?: number;
  /** Recall@10 every search aims for unless it says otherwise (the quality guard picks the configuration). */
  targetRecall?: number;
}

export interface CollectionRecord {
  id: number;
  name: string;
  dim: number;
  indexDim: number;
  rerankDim: number;
  residentDim: number;
  /** How the resident rows are held (core/quantize.ts). */
  residentType: ResidentType;
  nesting: number[];
  distance: 'cosine';
  encoder: string | null;
  hnsw: { m: number; efConstruction: number; efSearch: number };
  searchDefaults: SearchDefaults;
  /** Payload fields with an expression index (filters on them are answered from it). */
  indexedFields: string[];
  /** Whether an input text is kept as the item's keyword text (collections bound to a text encoder). */
  storeText: boolean;
  createdAt: string;
}

interface Row {
  id: number;
  name: string;
  dim: number;
  index_dim: number;
  rerank_dim: number;
  resident_dim: number;
  nesting: string;
  distance: string;
  encoder: string | null;
  hnsw_m: number;
  hnsw_ef_construction: number;
  hnsw_ef_search: number;
  search_defaults: string | null;
  created_at: string;
  indexed_fields: string;
  store_text: number;
  resident_type: ResidentType;
}

function fromRow(r: Row): CollectionRecord {
  return {
    id: r.id,
    name: r.name,
    dim: r.dim,
    indexDim: r.index_dim,
    rerankDim: r.rerank_dim,
    residentDim: r.resident_dim,
    residentType: r.resident_type,
    nesting: JSON.parse(r.nesting) as number[],
    distance: 'cosine',
    encoder: r.encoder,
    hnsw: { m: r.hnsw_m, efConstruction: r.hnsw_ef_construction, efSearch: r.hnsw_ef_search },
    searchDefaults: r.search_defaults ? (JSON.parse(r.search_defaults) as SearchDefaults) : {},
    indexedFields: JSON.parse(r.indexed_fields) as string[],
    storeText: r.store_text !== 0,
    createdAt: r.created_at,
  };
}

export type NewCollection = Omit<CollectionRecord, 'id' | 'createdAt'>;

export class CollectionStore {
  /** Told the id of each collection removed (stores that keep something per collection forget it). */
  readonly deleted: ((collectionId: number) => void)[] = [];
  constructor(private readonly db: Db) {}

  insert(c: NewCollection): CollectionRecord {
    const exists = this.db.prepare('SELECT 1 FROM collections WHERE name = ?').get(c.name);
    if (exists) throw new MrlError('COLLECTION_EXISTS', { collection: c.name });
    const id = this.db.transaction(() => {
      const info = this.db
        .prepare(
          `INSERT INTO collections (name, dim, index_dim, rerank_dim, resident_dim, nesting, distance, encoder,
          hnsw_m, hnsw_ef_construction, hnsw_ef_search, search_defaults, created_at, indexed_fields, store_text, resident_type) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
        )
        .run(
          c.name,
          c.dim,
          c.indexDim,
          c.rerankDim,
          c.residentDim,
          JSON.stringify(c.nesting),
          c.distance,
          c.encoder,
          c.hnsw.m,
          c.hnsw.efConstruction,
          c.hnsw.efSearch,
          JSON.stringify(c.searchDefaults),
          new Date().toISOString(),
          JSON.stringify(c.indexedFields),
          c.storeText ? 1 : 0,
          c.residentType,
        );
      const id = Number(info.lastInsertRowid);
      syncFieldIndexes(this.db, id, c.indexedFields);
      return id;
    })();
    return this.get(c.name, id);
  }

  /** Sets the collection's indexed payload fields, creating and dropping their indexes in one transaction. */
  updateIndexedFields(name: string, fields: string[]): CollectionRecord {
    this.db
      .transaction(() => {
        const c = this.get(name);
        checkStoredIndexable(this.db, c.id, fields);
        this.db.prepare('UPDATE collections SET indexed_fields = ? WHERE id = ?').run(JSON.stringify(fields), c.id);
        syncFieldIndexes(this.db, c.id, fields);
      })
      .immediate();
    return this.get(name);
  }

  get(name: string, id?: number): CollectionRecord {
    const row = (
      id === undefined
        ? this.db.prepare('SELECT * FROM collections WHERE name = ?').get(name)
        : this.db.prepare('SELECT * FROM collections WHERE id = ?').get(id)
    ) as Row | undefined;
    if (!row) throw new MrlError('COLLECTION_NOT_FOUND', { collection: name });
    return fromRow(row);
  }

  list(): CollectionRecord[] {
    return (this.db.prepare('SELECT * FROM collections ORDER BY name').all() as Row[]).map(fromRow);
  }

  updateSearchDefaults(name: string, defaults: SearchDefaults): void {
    this.db.prepare('UPDATE collections SET search_defaults = ? WHERE name = ?').run(JSON.stringify(defaults), name);
  }

  /** Changes the index dims and the default search together (the index is rebuilt by the caller). */
  updateTuning(name: string, indexDim: number, defaults: SearchDefaults): CollectionRecord {
    this.db
      .prepare('UPDATE collections SET index_dim = ?, search_defaults = ? WHERE name = ?')
      .run(indexDim, JSON.stringify(defaults), name);
    return this.get(name);
  }

  /** Removes the collection and (by cascade) its items, in one transaction. */
  delete(name: string): void {
    const { id, info } = this.db.transaction(() => {
      const c = this.get(name);
      this.db.prepare('DELETE FROM items WHERE collection_id = ?').run(c.id);
      this.db.prepare('DELETE FROM item_text WHERE collection_id = ?').run(c.id);
      syncFieldIndexes(this.db, c.id, []);
      return { id: c.id, info: this.db.prepare('DELETE FROM collections WHERE id = ?').run(c.id) };
    })();
    if (info.changes !== 1) throw new MrlError('COLLECTION_NOT_FOUND', { collection: name });
    for (const f of this.deleted) f(id);
  }
}
