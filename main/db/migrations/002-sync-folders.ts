/**
 * Schema version 2: sync folders (main/sync). The archive's blocks stay the record; these tables
 * say which block is which version of which path, and what the folder held at its last sync.
 */
export const version = 2;

export const sql = `
CREATE TABLE sync_folders (
  id TEXT PRIMARY KEY,            -- the folder id in FOLDER/.pakit/folder-id
  root TEXT NOT NULL,             -- absolute path where it was last synced
  device TEXT NOT NULL,           -- this device's name (conflict copies carry the losing device's)
  created INTEGER NOT NULL        -- ms since epoch
) STRICT;

-- What the folder held at its last sync: the fast path (size, mtime, inode) and the base a
-- conflict is judged against.
CREATE TABLE sync_files (
  folder TEXT NOT NULL,
  path TEXT NOT NULL,             -- relative to the folder root, '/'-separated
  kind TEXT NOT NULL,             -- file | symlink
  seq INTEGER NOT NULL,           -- block of the version on disk
  size INTEGER NOT NULL,
  mtime_ns INTEGER NOT NULL,
  ino INTEGER NOT NULL,
  mode INTEGER NOT NULL,
  PRIMARY KEY (folder, path)
) STRICT, WITHOUT ROWID;

-- Every version of every path, oldest first. A deletion is a version with no block.
CREATE TABLE sync_versions (
  folder TEXT NOT NULL,
  path TEXT NOT NULL,
  n INTEGER NOT NULL,             -- 1, 2, 3 … per path
  seq INTEGER,                    -- the file or symlink block; NULL for a deletion
  snapshot INTEGER NOT NULL,      -- the snapshot block of the sync that recorded it
  ts INTEGER NOT NULL,            -- ms since epoch
  origin TEXT NOT NULL,           -- 'local', or the device a remote version came from
  PRIMARY KEY (folder, path, n)
) STRICT, WITHOUT ROWID;

-- One row per sync that changed anything: the folder's history (pakit log).
CREATE TABLE sync_snapshots (
  folder TEXT NOT NULL,
  seq INTEGER NOT NULL,           -- the snapshot block
  ts INTEGER NOT NULL,
  added INTEGER NOT NULL,
  changed INTEGER NOT NULL,
  deleted INTEGER NOT NULL,
  PRIMARY KEY (folder, seq)
) STRICT, WITHOUT ROWID;
`;
