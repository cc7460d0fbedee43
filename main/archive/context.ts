import type { Db } from '../db/database.js';
import type { BlockIndex } from '../dag/block-index.js';
import type { BlockWriter } from '../dag/block-writer.js';
import type { ChunkStore, ChunkerParams } from '../store/types.js';
import type { ArchiveKey } from './keys.js';
import type { BlockRecord } from '../dag/block-index.js';
import { fromHex, isHash32Hex } from '../../shared/bytes.js';
import { InvalidHashError, ReadOnlyArchiveError, UnknownHashError } from './errors.js';

/** What the archive's operations share. Writers have `writer`; readers do not. */
export interface ArchiveContext {
  readonly dir: string;
  readonly dbFile: string;
  readonly db: Db;
  readonly chunks: ChunkStore;
  readonly index: BlockIndex;
  readonly genesis: BlockRecord;
  readonly chunker: ChunkerParams;
  readonly zstdLevel: number;
  readonly writer?: BlockWriter;
  readonly key?: ArchiveKey;
}

export function requireWriter(ctx: ArchiveContext): BlockWriter {
  if (!ctx.writer) throw new ReadOnlyArchiveError('the archive was opened read-only');
  return ctx.writer;
}

/** Parses a user-supplied hash (64 lowercase or uppercase hex digits). */
export function parseHash(hash: string | Uint8Array): Uint8Array {
  if (typeof hash !== 'string') return hash;
  const h = hash.trim().toLowerCase();
  if (!isHash32Hex(h)) throw new InvalidHashError(`not a hash: ${JSON.stringify(hash)} (expected 64 hex digits)`);
  return fromHex(h)!;
}

export function getBlock(ctx: ArchiveContext, hash: string | Uint8Array): BlockRecord {
  const h = parseHash(hash);
  const b = ctx.index.get(h);
  if (!b) throw new UnknownHashError(`no object or block ${Buffer.from(h).toString('hex')} in this archive`);
  return b;
}
