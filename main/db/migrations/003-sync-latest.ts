/**
 * Schema version 3: each path's newest version, kept beside `sync_versions` by the sync's own
 * transactions, so the folder's file list is read a page at a time (ORDER BY path LIMIT … OFFSET)
 * instead of grouping every version of every path (about a second for 100,000 paths).
 */
export const version = 3;

export const sql = `
CREATE TABLE sync_latest (
  folder TEXT NOT NULL,
  path TEXT NOT NULL,
  folded TEXT NOT NULL,           -- the path lower-cased as JavaScript does (pakit_lower), for filters
  n INTEGER NOT NULL,             -- the newest version's n; versions are numbered 1, 2, 3 …, so also their count
  seq INTEGER,                    -- its block; NULL when the newest version is a deletion
  PRIMARY KEY (folder, path)
) STRICT, WITHOUT ROWID;

INSERT INTO sync_latest (folder, path, folded, n, seq)
  SELECT v.folder, v.path, pakit_lower(v.path), v.n, v.seq FROM sync_versions v
  WHERE v.n = (SELECT max(w.n) FROM sync_versions w WHERE w.folder = v.folder AND w.path = v.path);
`;
