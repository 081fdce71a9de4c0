-- Keyword search: one FTS5 table for every collection, rowid = the item's seq, written in the
-- same transaction as the item (src/store/item-text.ts). Diacritics removed, porter stemming.
CREATE VIRTUAL TABLE item_text USING fts5(
  text,
  collection_id UNINDEXED,
  tokenize = 'porter unicode61 remove_diacritics 2'
);
-- Payload fields with an expression index (a JSON list of paths, e.g. ["year","meta.lang"]),
-- and whether an input text is kept as the item's text (collections bound to a text encoder).
ALTER TABLE collections ADD COLUMN indexed_fields TEXT NOT NULL DEFAULT '[]';
ALTER TABLE collections ADD COLUMN store_text INTEGER NOT NULL DEFAULT 1;
