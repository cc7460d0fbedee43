/**
 * Schema version 11: the fast-path cache's key keeps a directory's files together. The key was 64
 * bits of SHA-256 of the whole absolute path, so each stored file's row landed on a random page of
 * `file_cache`, and every commit wrote nearly every page of the table to the WAL again: a quarter of
 * all WAL frames of the corpus store (14,000 of 56,000). The key is now the first 4 bytes of
 * SHA-256 of the directory's absolute path, then the first 4 of SHA-256 of the file's name, read as
 * a signed big-endian 64-bit integer (main/archive/store-ops.ts `pathKey`): the files of a directory,
 * stored one after another, share a page or two.
 *
 * Two paths of one directory share a key with odds of about n²/2³³ for n files in it; as before
 * (schema 7), a stale hit would also need the same size, mtime, inode and mode, i.e. a hard link to
 * the same content, and otherwise the two files only take turns missing the fast path.
 *
 * The old keys cannot be converted in SQL: the cache is emptied, and the first store after the
 * upgrade reads each file once more (dedup keeps it from storing anything twice).
 */
export const version = 11;

export const sql = `
DELETE FROM file_cache;
`;
