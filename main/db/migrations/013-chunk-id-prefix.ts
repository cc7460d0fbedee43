/**
 * Schema version 13: chunks are found by id through an index of the id's first 8 bytes rather than
 * a UNIQUE index of all 32 (the row's whole id is still compared), as blocks by hash since schema 10.
 * Chunk ids are uniformly random, so each new chunk's entry lands on a random page of the index, and
 * every commit writes each page it dirtied to the WAL again: storing the 500 MB bench corpus, that
 * index was a quarter of the WAL's frames (2,014 of 8,221 with 32 KiB pages). Entries of about 14
 * bytes instead of about 42 mean fewer pages to dirty; the store took ~3 % less time (six rounds,
 * both builds in turn: median ratio 0.97, docs/BENCHMARKS.md run AB).
 *
 * A UNIQUE constraint cannot be dropped in place, so the table is rebuilt (row ids kept: objects'
 * chunk lists point at them). Two chunks never share an id — a chunk is looked up before it is put,
 * and one writer puts them — and `pakit check` verifies it instead of the constraint.
 */
export const version = 13;

export const sql = `
CREATE TABLE chunks_new (
  rid INTEGER PRIMARY KEY,
  id BLOB NOT NULL,               -- SHA-256 of the raw bytes; found through chunks_id, distinct (pakit check)
  raw_len INTEGER NOT NULL,
  stored_len INTEGER NOT NULL,
  codec INTEGER NOT NULL,         -- 0 raw, 1 zstd, 2 in a group
  pack INTEGER,                   -- NULL when stored inline in chunk_data
  offset INTEGER,
  frame_len INTEGER,
  frame_raw INTEGER,
  frame_at INTEGER
) STRICT;
INSERT INTO chunks_new (rid, id, raw_len, stored_len, codec, pack, offset, frame_len, frame_raw, frame_at)
  SELECT rid, id, raw_len, stored_len, codec, pack, offset, frame_len, frame_raw, frame_at FROM chunks ORDER BY rid;
DROP TABLE chunks;
ALTER TABLE chunks_new RENAME TO chunks;
CREATE INDEX chunks_id ON chunks (substr(id, 1, 8));
`;
