-- The quality guard: the latest Matryoshka report per collection (JSON), and the orthogonal
-- rotation bound to a collection made by `adapt` (D×D float32, row-major: a raw vector v is
-- stored and searched as v·R), with the source's figures before it (JSON). Both go with their
-- collection (ON DELETE CASCADE).
CREATE TABLE quality_reports (
  collection_id INTEGER PRIMARY KEY REFERENCES collections(id) ON DELETE CASCADE,
  report TEXT NOT NULL,
  items INTEGER NOT NULL,
  created_at TEXT NOT NULL
);
CREATE TABLE collection_rotations (
  collection_id INTEGER PRIMARY KEY REFERENCES collections(id) ON DELETE CASCADE,
  method TEXT NOT NULL,
  dim INTEGER NOT NULL CHECK (dim > 0),
  matrix BLOB NOT NULL CHECK (length(matrix) = 4 * dim * dim),
  source TEXT,
  before TEXT,
  created_at TEXT NOT NULL
);
