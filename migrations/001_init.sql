-- Collections: dims and index parameters. `id` is never reused, so snapshot files named by it
-- can never be mistaken for those of a dropped collection of the same name.
CREATE TABLE collections (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL UNIQUE,
  dim INTEGER NOT NULL CHECK (dim > 0),
  index_dim INTEGER NOT NULL CHECK (index_dim > 0 AND index_dim <= dim),
  rerank_dim INTEGER NOT NULL CHECK (rerank_dim > 0 AND rerank_dim <= dim),
  resident_dim INTEGER NOT NULL CHECK (resident_dim > 0 AND resident_dim <= dim),
  nesting TEXT NOT NULL,
  distance TEXT NOT NULL DEFAULT 'cosine',
  encoder TEXT,
  hnsw_m INTEGER NOT NULL,
  hnsw_ef_construction INTEGER NOT NULL,
  hnsw_ef_search INTEGER NOT NULL,
  search_defaults TEXT,
  created_at TEXT NOT NULL
);

-- Items: `seq` is the HNSW label and the resident-matrix key. AUTOINCREMENT guarantees it is
-- never reused, even after deletes: an upsert deletes the old row and inserts a new one.
CREATE TABLE items (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  collection_id INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
  id TEXT NOT NULL,
  label TEXT,
  payload TEXT,
  vector BLOB NOT NULL,
  UNIQUE (collection_id, id)
);
