import { inSnapshot } from '../db/database.js';
import type { ArchiveContext } from './context.js';

/** Archive metrics, all measured from the index (nothing estimated). */
export interface ArchiveStats {
  readonly archive: string;
  readonly objects: number;
  /** Distinct file and symlink objects (identical files stored under one block count once). */
  readonly files: number;
  readonly snapshots: number;
  readonly blocks: number;
  readonly chunks: number;
  readonly maxDepth: number;
  readonly tips: number;
  readonly checkpoints: number;
  /** Original bytes of every stored object version (including snapshot manifests). */
  readonly originalBytes: number;
  /** Original bytes of file and symlink versions only. */
  readonly fileBytes: number;
  /** Raw bytes of the distinct chunks (after dedup, before compression). */
  readonly uniqueBytes: number;
  /** Bytes the chunks occupy in the store (after dedup and compression). */
  readonly storedBytes: number;
  readonly compressionRatio: number;
  readonly dedupSavedBytes: number;
  readonly compressionSavedBytes: number;
}

/** Every figure from one committed state (one read transaction), even while a writer commits. */
export function archiveStats(ctx: ArchiveContext): ArchiveStats {
  return inSnapshot(ctx.db, () => statsOf(ctx));
}

function statsOf(ctx: ArchiveContext): ArchiveStats {
  const q = (sql: string): number => (ctx.db.prepare(sql).pluck().get() as number | null) ?? 0;
  const totals = ctx.chunks.totals();
  const originalBytes = q("SELECT total(size) FROM blocks WHERE kind <> 'genesis'");
  const maxDepth = q('SELECT max(depth) FROM blocks');
  // Tips are blocks nobody links to. Every block links the one before it (the edge is implied, not
  // stored: schema 14), so only the newest can be one, and it is unless a stored edge names it.
  const tips = q(`SELECT count(*) FROM blocks b WHERE b.seq = (SELECT max(seq) FROM blocks)
      AND NOT EXISTS (SELECT 1 FROM edges e WHERE e.parent = b.seq)`);
  return {
    archive: ctx.genesis.hash.toString('hex'),
    objects: q("SELECT count(*) FROM blocks WHERE kind <> 'genesis'"),
    files: q("SELECT count(*) FROM blocks WHERE kind IN ('file', 'symlink')"),
    snapshots: q("SELECT count(*) FROM blocks WHERE kind = 'snapshot'"),
    blocks: q('SELECT count(*) FROM blocks'),
    chunks: totals.chunks,
    maxDepth,
    tips,
    checkpoints: q('SELECT count(*) FROM checkpoints'),
    originalBytes,
    fileBytes: q("SELECT total(size) FROM blocks WHERE kind IN ('file', 'symlink')"),
    uniqueBytes: totals.rawBytes,
    storedBytes: totals.storedBytes,
    compressionRatio: totals.storedBytes > 0 ? originalBytes / totals.storedBytes : 1,
    dedupSavedBytes: originalBytes - totals.rawBytes,
    compressionSavedBytes: totals.rawBytes - totals.storedBytes,
  };
}
