-- Cluster mode (src/cluster/): how far this node has applied each shard's log. Written in the
-- same transaction as the items a log message changes, so a crash can neither apply a message
-- twice nor skip one.
CREATE TABLE cluster_applied (
  collection TEXT NOT NULL,
  shard INTEGER NOT NULL CHECK (shard >= 0),
  seq INTEGER NOT NULL CHECK (seq >= 0),
  PRIMARY KEY (collection, shard)
);

-- The cluster-wide identity of each local collection (its metadata lives in a JetStream KV
-- bucket): a collection dropped and created again under the same name gets a new uid.
CREATE TABLE cluster_collections (
  name TEXT PRIMARY KEY,
  uid TEXT NOT NULL,
  shards INTEGER NOT NULL CHECK (shards >= 1),
  replicas INTEGER NOT NULL CHECK (replicas >= 1)
);
