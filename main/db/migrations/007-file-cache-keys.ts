/**
 * Schema version 7: the fast-path cache keyed by a 64-bit hash of the path instead of the path
 * itself. Absolute paths averaged 94 bytes a row on the bench corpus (4.7 MB of a 23 MB index for
 * 34,000 files); a key is 8. The key is the first 8 bytes of SHA-256 of the absolute path's UTF-8,
 * read as a signed big-endian integer (main/archive/store-ops.ts `pathKey`). Two paths sharing a key
 * would also need the same size, mtime, inode and mode for a stale hit, which for different files
 * on one device means the same inode, i.e. a hard link to the same content.
 *
 * The old cache is dropped, not converted (SQL has no SHA-256): the first store after the upgrade
 * reads each file once more, and dedup keeps it from storing anything twice.
 */
export const version = 7;

export const sql = `
DROP TABLE file_cache;
CREATE TABLE file_cache (
  key INTEGER PRIMARY KEY,        -- pathKey(absolute path)
  size INTEGER NOT NULL,
  mtime_ns INTEGER NOT NULL,
  ino INTEGER NOT NULL,
  mode INTEGER NOT NULL,
  seq INTEGER NOT NULL            -- the block stored for it
) STRICT;
`;
