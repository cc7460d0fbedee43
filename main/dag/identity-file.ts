import Database from 'better-sqlite3';
import { storedCompactMeta } from './stored-header.js';

/**
 * The identity file (`identity.db` beside `archive.db`): which blocks may hold a given object, by
 * the first 8 bytes of the content root and a 32-bit hash of the metadata (identityKey). Only the
 * writer asks it (to return the stored block for an identical object), and it is derived from
 * `blocks`: a worker thread fills it from committed rows (identity-worker.ts), off the thread that
 * appends. Until schema 15 this was the `blocks_identity` index, 21 % of a
 * block append's time at a million blocks (docs/BENCHMARKS.md, run AO).
 *
 * `indexed` is the watermark: every block with seq below it has its entry. Entries are hints, never
 * trusted: the writer compares each candidate's row whole, so an entry a power loss left behind
 * (its block rolled back with the WAL) costs a row read, nothing else. Deleting the file loses
 * nothing; the next writer indexes the archive again.
 */
export const IDENTITY_FILE = 'identity.db';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS identity (
  key BLOB NOT NULL,              -- identityKey(content root, metadata)
  seq INTEGER NOT NULL,
  PRIMARY KEY (key, seq)
) STRICT, WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS state (
  id INTEGER PRIMARY KEY CHECK (id = 0),
  archive BLOB NOT NULL,          -- the genesis block hash: which archive the entries describe
  indexed INTEGER NOT NULL        -- blocks [0, indexed) have their entries
) STRICT;
`;

/** Slots of the Int32Array the writer and the worker share. */
export const WRITTEN = 0; // blocks the writer has written (committed or not): the worker's cue
export const INDEXED = 1; // the worker's watermark, once it has written one
export const STOP = 2; // set to 1 when the worker is to finish

/** What the worker is started with (identity-worker.ts). */
export interface IdentityWorkerInit {
  readonly archiveFile: string;
  readonly identityFile: string;
  readonly shared: SharedArrayBuffer;
  /** Blocks indexed per transaction, at most. */
  readonly batch: number;
  /** The pause after a transaction that was not full. */
  readonly pauseMs: number;
}

/** What a block's identity key is made from. */
export const KEY_COLUMNS = 'content_root AS root, header';

/** Blocks from a seq on, in seq order, with what their keys are made from (read from `archive.db`). */
export const ROWS_FROM = `SELECT seq, ${KEY_COLUMNS} FROM blocks WHERE seq >= ? ORDER BY seq LIMIT ?`;

export interface KeyRow {
  readonly seq: number;
  readonly root: Buffer;
  readonly header: Buffer;
}

/**
 * FNV-1a (32 bits) of an object's compact metadata (storedCompactMeta). Not a cryptographic hash:
 * a key only narrows the rows compared whole, so a collision, even a crafted one, costs a row read.
 * With the metadata's end alone (the index before, schema 12) every copy of one content under one
 * name was a candidate for the next: 1,000 empty `__init__.py` files, half a million row reads.
 */
export function metaHash(meta: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < meta.length; i++) h = Math.imul(h ^ meta[i]!, 0x01000193);
  return h >>> 0;
}

/** The file's key for an object: its content root's first 8 bytes, then metaHash (big-endian). */
export function identityKey(root: Uint8Array, meta: Uint8Array): Buffer {
  const key = Buffer.allocUnsafe(12);
  key.set(root.subarray(0, 8));
  key.writeUInt32BE(metaHash(meta), 8);
  return key;
}

/**
 * Opens (creating if need be) the identity file for the archive whose genesis hash is `archive`,
 * and returns it with its watermark. A file made for another archive, or unreadable as ours, is
 * emptied; a watermark past `size` (the archive lost blocks the file had seen: a restored backup,
 * a power loss) comes back to it, and the entries from there on are dropped.
 */
export function openIdentityFile(
  path: string,
  archive: Buffer,
  size: number,
): { db: Database.Database; indexed: number } {
  const db = new Database(path);
  try {
    db.pragma('busy_timeout = 5000');
    db.pragma('journal_mode = WAL');
    // Derived data, rebuilt from `blocks` whenever it falls behind: a crash may lose its newest
    // transactions (the watermark goes with them), never make it claim what it does not hold.
    db.pragma('synchronous = NORMAL');
    db.exec(SCHEMA);
    const state = db.prepare('SELECT archive, indexed FROM state').get() as
      { archive: Buffer; indexed: number } | undefined;
    let indexed = state?.indexed ?? 0;
    db.transaction(() => {
      if (!state || !state.archive.equals(archive)) {
        db.exec('DELETE FROM identity');
        db.prepare('INSERT OR REPLACE INTO state (id, archive, indexed) VALUES (0, ?, 0)').run(archive);
        indexed = 0;
      } else if (indexed > size) {
        db.prepare('DELETE FROM identity WHERE seq >= ?').run(size);
        db.prepare('UPDATE state SET indexed = ?').run(size);
        indexed = size;
      }
    }).immediate();
    return { db, indexed };
  } catch (e) {
    db.close();
    throw e;
  }
}

/**
 * Writes the entries of `rows` (consecutive blocks from the watermark on) in key order, and moves
 * the watermark past them, in one transaction. Returns the new watermark.
 */
export function writeEntries(db: Database.Database, rows: readonly KeyRow[]): number {
  const sorted = rows
    .map((r) => ({ key: identityKey(r.root, storedCompactMeta(r.header)), seq: r.seq }))
    .sort((a, b) => Buffer.compare(a.key, b.key) || a.seq - b.seq);
  const insert = db.prepare('INSERT OR IGNORE INTO identity (key, seq) VALUES (?, ?)');
  const next = rows.at(-1)!.seq + 1;
  db.transaction(() => {
    for (const r of sorted) insert.run(r.key, r.seq);
    db.prepare('UPDATE state SET indexed = ?').run(next);
  }).immediate();
  return next;
}
