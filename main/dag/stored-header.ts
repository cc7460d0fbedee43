import type { Statement } from 'better-sqlite3';
import { inReadSnapshot, type Db } from '../db/database.js';
import {
  BLOCK_VERSION,
  HeaderFormatError,
  MAX_PARENTS,
  decodeHeader,
  sortedMetaKeys,
  validateHeader,
  type BlockHeader,
  type BlockKind,
} from '../../shared/block-header.js';

/**
 * How a block header is kept in `blocks.header`. A block's hash covers its canonical encoding
 * (shared/block-header.ts), ~380 bytes for a file, half of it the parents' 32-byte hashes. Those
 * hashes are already in the table (each parent's own row), and kind, depth, timestamp, sizes and
 * content root are columns. So a block written since schema 6 keeps only the rest: its parents by
 * log position, chunk count, codec and metadata (~80 bytes); the header is rebuilt from the row and
 * the parents' hashes, and re-encoding it gives back the exact bytes its hash covers (the integrity
 * check does exactly that). Blocks written earlier keep the canonical encoding; the first byte
 * tells them apart (a canonical header starts with the 0x00 of its domain tag's length).
 *
 * Compact layout: 0x02, parent count (u8), each parent's seq (u32 BE, in the header's parent order),
 * chunk count (u48 BE), codec (u8 length + UTF-8), then the metadata (compactMeta): its count (u8),
 * then per entry a key (u16 length + UTF-8) and value (u32 length + UTF-8), in canonical key order
 * since this version (rows written before kept the order the writer gave, which for every writer
 * of ours was the canonical one already).
 */
export const COMPACT_TAG = 0x02;
/** Refused as a metadata key, as shared/block-header.ts refuses it (it would set a prototype). */
const RESERVED_META_KEY = '__proto__';

/** The columns `decodeRow` needs, in the order every query selects them. */
export const BLOCK_COLUMNS = 'seq, hash, kind, depth, ts, size, stored_size, content_root, header';
/**
 * The condition that finds a block by hash through its 8-byte prefix index (schema 10); bind the
 * hash twice.
 */
export const BY_HASH = 'substr(hash, 1, 8) = substr(?, 1, 8) AND hash = ?';

export interface BlockRow {
  readonly seq: number;
  readonly hash: Buffer;
  readonly kind: string;
  readonly depth: number;
  readonly ts: number;
  readonly size: number;
  readonly stored_size: number;
  readonly content_root: Buffer;
  readonly header: Buffer;
}

/** The compact stored form of `h`, whose parents (in header order) have the log positions `parentSeqs`. */
export function encodeCompact(h: BlockHeader, parentSeqs: readonly number[]): Buffer {
  if (parentSeqs.length !== h.parents.length) throw new TypeError('one seq per parent is needed');
  // Lengths first, then the strings written straight into the one buffer (no Buffer per string).
  const codecLength = Buffer.byteLength(h.codec, 'utf8');
  const keys = sortedMetaKeys(h.meta);
  const b = Buffer.allocUnsafe(2 + 4 * parentSeqs.length + 6 + 1 + codecLength + metaLength(h.meta, keys));
  let at = b.writeUInt8(COMPACT_TAG, 0);
  at = b.writeUInt8(parentSeqs.length, at);
  for (const s of parentSeqs) at = b.writeUInt32BE(s, at);
  at = b.writeUIntBE(h.chunkCount, at, 6);
  at = b.writeUInt8(codecLength, at);
  at += b.write(h.codec, at, 'utf8');
  writeMeta(b, at, h.meta, keys);
  return b;
}

/**
 * The last bytes of a compact stored header with this metadata: how a stored block with the same
 * metadata ends, so a query can pick it out without decoding every row (see BlockWriter.append).
 */
export function compactMeta(meta: Readonly<Record<string, string>>): Buffer {
  const keys = sortedMetaKeys(meta);
  const b = Buffer.allocUnsafe(metaLength(meta, keys));
  writeMeta(b, 0, meta, keys);
  return b;
}

/**
 * The metadata of a stored header in its compact encoding (compactMeta), from either stored form:
 * a compact header ends with it (after its parents, chunk count and codec); a canonical one (genesis,
 * rows written before schema 6) is decoded. The identity index keys on it (identity-file.ts).
 */
export function storedCompactMeta(header: Buffer): Buffer {
  if (header[0] !== COMPACT_TAG) return compactMeta(decodeHeader(header).meta);
  const codecAt = 2 + 4 * header[1]! + 6;
  return header.subarray(codecAt + 1 + header[codecAt]!);
}

function metaLength(meta: Readonly<Record<string, string>>, keys: readonly string[]): number {
  let n = 1;
  for (const k of keys) n += 6 + Buffer.byteLength(k, 'utf8') + Buffer.byteLength(meta[k]!, 'utf8');
  return n;
}

function writeMeta(b: Buffer, at: number, meta: Readonly<Record<string, string>>, keys: readonly string[]): void {
  at = b.writeUInt8(keys.length, at);
  for (const k of keys) {
    const kl = b.write(k, at + 2, 'utf8');
    at = b.writeUInt16BE(kl, at) + kl;
    const vl = b.write(meta[k]!, at + 4, 'utf8');
    at = b.writeUInt32BE(vl, at) + vl;
  }
}

/** Finds blocks' hashes by log position (undefined where there is no such block). */
export interface ParentHashes {
  (seqs: readonly number[]): readonly (Buffer | undefined)[];
  /** Notes a block read from the database, so a later child finds it without a query. */
  remember(seq: number, hash: Buffer): void;
}

/** Hashes kept by one ParentHashes: enough for the parent window of a sequential scan. */
const KNOWN_HASHES = 65_536;

/**
 * A ParentHashes over an archive database: one query per header, whatever its parent count, and
 * none when the parents were seen lately (a scan in log order, such as a restore, reads each block
 * shortly after its parents). Only committed rows are kept — read outside any transaction — since
 * a rolled-back block's position is taken again by the next one.
 */
export function parentHashes(db: Db): ParentHashes {
  const byCount = new Map<number, Statement<number[], { seq: number; hash: Buffer }>>();
  const known = new Map<number, Buffer>();
  const keep = (seq: number, hash: Buffer): void => {
    // A row read inside a write transaction may still be rolled back (and its seq reused).
    if (db.inTransaction && !inReadSnapshot(db)) return;
    if (known.size >= KNOWN_HASHES) known.clear();
    known.set(seq, hash);
  };
  const find = (seqs: readonly number[]): (Buffer | undefined)[] => {
    const out = seqs.map((s) => known.get(s));
    const missing = seqs.filter((_, i) => out[i] === undefined);
    if (missing.length === 0) return out;
    let stmt = byCount.get(missing.length);
    if (!stmt) {
      stmt = db.prepare(`SELECT seq, hash FROM blocks WHERE seq IN (${missing.map(() => '?').join(', ')})`);
      byCount.set(missing.length, stmt);
    }
    const found = new Map(stmt.all(...missing).map((r) => [r.seq, r.hash]));
    return seqs.map((s, i) => {
      const h = out[i] ?? found.get(s);
      if (h && out[i] === undefined) keep(s, h);
      return h;
    });
  };
  return Object.assign(find, { remember: keep });
}

/** What a compact header holds after its parents: chunk count, codec and metadata, to its end. */
function readTail(b: Buffer, from: number): { chunkCount: number; codec: string; meta: Record<string, string> } {
  let at = from;
  // In two reads: readUIntBE(at, 6) makes a heap number even of 1, and a header decoded here then
  // changed how V8 stores chunkCount in every header (small integers until then), which threw out
  // the compiled code of everything that makes or reads headers, mid-store, to be compiled again.
  const high = b.readUInt16BE(at);
  const low = b.readUInt32BE(at + 2);
  const chunkCount = high === 0 ? low : high * 2 ** 32 + low;
  at += 6;
  const codecLength = b.readUInt8(at++);
  const codec = b.toString('utf8', at, (at += codecLength));
  const count = b.readUInt8(at++);
  const meta: Record<string, string> = {};
  for (let i = 0; i < count; i++) {
    const kl = b.readUInt16BE(at);
    const k = b.toString('utf8', at + 2, (at += 2 + kl));
    if (k === RESERVED_META_KEY || k in meta) throw new HeaderFormatError(`metadata key ${k} is not allowed twice`);
    const vl = b.readUInt32BE(at);
    meta[k] = b.toString('utf8', at + 4, (at += 4 + vl));
  }
  if (at > b.length) throw new HeaderFormatError('stored header is truncated');
  if (at !== b.length) throw new HeaderFormatError(`${b.length - at} stray bytes after the stored header`);
  return { chunkCount, codec, meta };
}

/**
 * A stored block's metadata, without rebuilding its header: a compact header's parents are
 * skipped, not looked up. Finding an identical object compares every block of the same content,
 * and a query for each one's parents made that the slowest part of storing duplicated files.
 */
export function storedMeta(row: BlockRow, parents: ParentHashes): Readonly<Record<string, string>> {
  const b = row.header;
  if (b.length === 0 || b[0] !== COMPACT_TAG) return decodeRow(row, parents).meta;
  try {
    return readTail(b, 2 + 4 * b.readUInt8(1)).meta;
  } catch (e) {
    if (e instanceof HeaderFormatError) throw e;
    throw new HeaderFormatError(`stored header does not decode: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/**
 * The header of a stored block; `parents` finds the parents' hashes. Throws HeaderFormatError when
 * the stored bytes or the row do not make a valid header.
 */
export function decodeRow(row: BlockRow, parents: ParentHashes): BlockHeader {
  parents.remember(row.seq, row.hash);
  const b = row.header;
  if (b.length === 0 || b[0] !== COMPACT_TAG) return decodeHeader(new Uint8Array(b.buffer, b.byteOffset, b.byteLength));
  try {
    let at = 1;
    const n = b.readUInt8(at++);
    if (n > MAX_PARENTS) throw new HeaderFormatError(`${n} parents, more than ${MAX_PARENTS}`);
    const seqs: number[] = [];
    for (let i = 0; i < n; i++, at += 4) seqs.push(b.readUInt32BE(at));
    const hashes = parents(seqs);
    const parentList: Uint8Array[] = [];
    for (let i = 0; i < n; i++) {
      const hash = hashes[i];
      if (!hash) throw new HeaderFormatError(`parent at log position ${seqs[i]} does not exist`);
      parentList.push(hash);
    }
    const { chunkCount, codec, meta } = readTail(b, at);
    const h: BlockHeader = {
      version: BLOCK_VERSION,
      kind: row.kind as BlockKind,
      parents: parentList,
      depth: row.depth,
      timestamp: row.ts,
      contentRoot: row.content_root,
      size: row.size,
      storedSize: row.stored_size,
      chunkCount,
      codec,
      meta,
    };
    validateHeader(h);
    return h;
  } catch (e) {
    if (e instanceof HeaderFormatError) throw e;
    throw new HeaderFormatError(`stored header does not decode: ${e instanceof Error ? e.message : String(e)}`);
  }
}
