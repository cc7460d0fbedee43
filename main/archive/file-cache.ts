// The fast-path records of stored files (table `file_cache`): a file whose size, mtime, inode and
// mode are those recorded for its path is not read again. Their keys, their queries, and when a
// record may be written at all.
import { hash } from 'node:crypto';
import type { Statement } from 'better-sqlite3';
import type { FileInfo } from '../store/types.js';
import type { ArchiveContext } from './context.js';

export interface CacheRow {
  key: bigint;
  size: bigint;
  mtime_ns: bigint;
  ino: bigint;
  mode: bigint;
  hash: Buffer;
  kind: string;
  block_size: bigint;
  stored_size: bigint;
}

const statements = new WeakMap<ArchiveContext, { one: Statement; range: Statement; any: Statement }>();
/** Fast-path records by key, or by a range of keys; and whether there is any. */
function queries(ctx: ArchiveContext): { one: Statement; range: Statement; any: Statement } {
  let s = statements.get(ctx);
  if (!s) {
    // The block's few fields the result needs come with the cache row: no header to rebuild.
    const select = `SELECT f.key, f.size, f.mtime_ns, f.ino, f.mode, b.hash, b.kind, b.size AS block_size, b.stored_size
      FROM file_cache f JOIN blocks b ON b.seq = f.seq`;
    s = {
      one: ctx.db.prepare(`${select} WHERE f.key = ?`).safeIntegers(true),
      range: ctx.db.prepare(`${select} WHERE f.key BETWEEN ? AND ?`).safeIntegers(true),
      any: ctx.db.prepare('SELECT 1 FROM file_cache LIMIT 1').pluck(),
    };
    statements.set(ctx, s);
  }
  return s;
}

/**
 * The fast-path records of every file in the directory `absDir` (absolute, as the walk builds it),
 * by key: the keys of a directory's files share their high 32 bits (pathKey), so this is one range
 * of the table. The walk reads a directory's records with one query instead of one per file.
 */
export function directoryCache(ctx: ArchiveContext, absDir: string): Map<bigint, CacheRow> {
  // A name's half of the key is 32 bits: the directory's keys run from its half followed by 0s to
  // its half followed by 1s (pathKey of a file named "" gives the directory's half).
  const lo = BigInt.asIntN(64, BigInt.asUintN(64, pathKey(`${absDir.replace(/\/$/, '')}/`)) & ~0xffff_ffffn);
  const rows = new Map<bigint, CacheRow>();
  for (const r of queries(ctx).range.iterate(lo, lo + 0xffff_ffffn) as IterableIterator<CacheRow>) rows.set(r.key, r);
  return rows;
}

/**
 * Whether the archive holds any fast-path record at all. A first store into an archive finds none
 * in any directory: asked once, this spares it a query per directory (3,474 for the corpus, ~20 µs
 * each).
 */
export function hasFastPathRecords(ctx: ArchiveContext): boolean {
  return queries(ctx).any.get() !== undefined;
}

/** The first 4 bytes of SHA-256 of `s` (its UTF-8), as an unsigned integer; no Buffer made. */
const first4 = (s: string): number => parseInt(hash('sha256', s, 'hex').slice(0, 8), 16);

/** The last directory pathKey() saw, and its half of the key (files come a directory at a time). */
let keyDir: string | undefined;
let keyDirHash = 0n;
/**
 * The fast-path cache's key for an absolute path (schema 11): the first 4 bytes of SHA-256 of its
 * directory, then the first 4 of SHA-256 of its name, as a signed big-endian integer.
 */
export function pathKey(abs: string): bigint {
  const slash = abs.lastIndexOf('/');
  const dir = abs.slice(0, slash);
  if (dir !== keyDir) {
    keyDir = dir;
    keyDirHash = BigInt(first4(dir)) << 32n;
  }
  const name = first4(abs.slice(slash + 1));
  return BigInt.asIntN(64, keyDirHash | BigInt(name));
}

/** The record of the file whose pathKey is `key`, if any. */
export function cacheRecord(ctx: ArchiveContext, key: bigint): CacheRow | undefined {
  return queries(ctx).one.get(key) as CacheRow | undefined;
}

/**
 * A file modified this close to the start of its store may change again within the same mtime (a
 * coarse clock ticks every few milliseconds; FAT counts in 2 s, some network file systems in 1 s),
 * before or while it is read, and its record would then vouch for bytes it no longer holds — git's
 * "racily clean" entries. Such a file is stored but gets no fast-path record; the next store reads it.
 */
const RACY_NS = 2_000_000_000n;

/**
 * Whether a stored file may get a fast-path record: it was read whole as it was when `seen` (the
 * walk's stat, or the worker's as it opened it) and opened, and its mtime is older than the store's
 * start by RACY_NS. A change while it was read gives it a newer mtime, so the next store reads it.
 */
export function trustworthy(seen: FileInfo, opened: FileInfo, read: number, began: bigint): boolean {
  return (
    opened.size === seen.size &&
    opened.mtimeNs === seen.mtimeNs &&
    BigInt(read) === seen.size &&
    seen.mtimeNs < began - RACY_NS
  );
}
