-- API keys: only the SHA-256 of each key is kept (a key is shown once, when it is created).
-- `collections` is a JSON array of collection names the key may see, or NULL for all.
CREATE TABLE api_keys (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL UNIQUE,
  role TEXT NOT NULL CHECK (role IN ('read', 'write', 'admin')),
  collections TEXT,
  key_hash BLOB NOT NULL UNIQUE CHECK (length(key_hash) = 32),
  created_at TEXT NOT NULL,
  last_used_at TEXT
);
