-- Results of evaluations and sweeps (JSON), newest last; the web page charts the latest.
-- They belong to a collection and go with it (ON DELETE CASCADE).
CREATE TABLE eval_runs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  collection_id INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
  kind TEXT NOT NULL CHECK (kind IN ('eval', 'sweep')),
  result TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX eval_runs_latest ON eval_runs (collection_id, kind, id);
