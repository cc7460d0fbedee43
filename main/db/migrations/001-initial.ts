/**
 * Schema version 1. Blocks are numbered by `seq`, which is also their leaf index in the block log
 * (genesis is 0). Chunk bytes live either in pack files (`pack`, `offset`) or inline in
 * `chunk_data` — see main/store.
 */
export const version = 1;

export const sql = `
CREATE TABLE meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT;

CREATE TABLE packs (
  id INTEGER PRIMARY KEY,
  size INTEGER NOT NULL          -- committed length; bytes past it are a crashed write and are cut
) STRICT;

CREATE TABLE chunks (
  rid INTEGER PRIMARY KEY,
  id BLOB NOT NULL UNIQUE,        -- SHA-256 of the raw bytes
  raw_len INTEGER NOT NULL,
  stored_len INTEGER NOT NULL,
  codec INTEGER NOT NULL,         -- 0 raw, 1 zstd
  pack INTEGER,                   -- NULL when stored inline in chunk_data
  offset INTEGER
) STRICT;

CREATE TABLE chunk_data (
  rid INTEGER PRIMARY KEY,
  data BLOB NOT NULL
) STRICT;

CREATE TABLE blocks (
  seq INTEGER PRIMARY KEY,        -- insertion order = leaf index in the block log
  hash BLOB NOT NULL UNIQUE,
  kind TEXT NOT NULL,
  depth INTEGER NOT NULL,
  ts INTEGER NOT NULL,
  size INTEGER NOT NULL,
  stored_size INTEGER NOT NULL,
  content_root BLOB NOT NULL,     -- finds blocks of identical content (and so identical objects)
  header BLOB NOT NULL            -- canonical encoding (shared/block-header.ts); hash = SHA-256(header)
) STRICT;
-- No depth or time index: both only grow with seq (every block links the newest, timestamps never
-- go back; the integrity check enforces it), so ranges are found by binary search on seq.
CREATE INDEX blocks_content ON blocks(content_root);

CREATE TABLE edges (
  parent INTEGER NOT NULL,
  child INTEGER NOT NULL,
  PRIMARY KEY (parent, child)
) STRICT, WITHOUT ROWID;
-- child -> parents comes from the block header itself; this table answers parent -> children.

CREATE TABLE object_chunks (
  seq INTEGER NOT NULL,
  idx INTEGER NOT NULL,
  chunk INTEGER NOT NULL,         -- chunks.rid
  PRIMARY KEY (seq, idx)
) STRICT, WITHOUT ROWID;

CREATE TABLE log_nodes (
  level INTEGER NOT NULL,         -- 0 = leaf hashes; node (l, i) covers leaves [i·2^l, (i+1)·2^l)
  idx INTEGER NOT NULL,
  hash BLOB NOT NULL,
  PRIMARY KEY (level, idx)
) STRICT, WITHOUT ROWID;

CREATE TABLE checkpoints (
  size INTEGER PRIMARY KEY,       -- log size it signs
  root BLOB NOT NULL,
  tips BLOB NOT NULL,             -- concatenated 32-byte hashes, ascending
  ts INTEGER NOT NULL,
  signature BLOB NOT NULL
) STRICT;

CREATE TABLE file_cache (
  path TEXT PRIMARY KEY,          -- absolute path as given to store
  size INTEGER NOT NULL,
  mtime_ns INTEGER NOT NULL,
  ino INTEGER NOT NULL,
  mode INTEGER NOT NULL,
  seq INTEGER NOT NULL            -- the block stored for it
) STRICT, WITHOUT ROWID;          -- the path is the key: stored once, not again in an index
`;
