/**
 * The chunk layer's public types. An object's bytes are cut by content-defined chunking, each chunk
 * named by SHA-256 of its raw bytes, compressed with zstd unless that does not pay, and kept once.
 */

/** Content-defined chunking parameters (bytes). Recorded in the genesis block; never change for an archive. */
export interface ChunkerParams {
  readonly min: number;
  readonly avg: number;
  readonly max: number;
}

export const enum Codec {
  Raw = 0,
  Zstd = 1,
}

/** A chunk as it leaves the ingest pipeline (a worker thread): hashed, and encoded when new. */
export interface IngestedChunk {
  /** SHA-256 of the raw bytes. */
  readonly id: Buffer;
  readonly rawLength: number;
  /**
   * Encoded bytes, or undefined when the worker found the chunk already stored (dedup): then only
   * the id and length travel back.
   */
  readonly encoded?: { readonly codec: Codec; readonly data: Buffer };
}

export interface ChunkInfo {
  readonly rid: number;
  readonly id: Buffer;
  readonly rawLength: number;
  readonly storedLength: number;
  readonly codec: Codec;
}

/** Totals over every chunk kept (each once). */
export interface ChunkTotals {
  readonly chunks: number;
  readonly rawBytes: number;
  readonly storedBytes: number;
}

export interface ChunkProblem {
  readonly id: string;
  readonly problem: 'missing' | 'corrupt' | 'unreadable';
  readonly detail: string;
}

/**
 * Where chunk bytes live. One writer process at a time (the archive holds the writer lock); any
 * number of readers. Implementations: pack files indexed in SQLite, or bytes inline in SQLite.
 * Both pass the same compliance suite (test/main/store/chunk-store-compliance.ts).
 *
 * Write protocol, driven by the archive:
 *   1. `put()` each new chunk — bytes are written (or staged) and the chunk is findable by `lookup`
 *      in this process at once;
 *   2. `sync()` — outside any transaction: make the bytes durable (fdatasync of pack files);
 *   3. `persist()` — inside the archive's SQLite transaction: index the chunks put since the last
 *      persist, so the transaction that commits an object also commits its chunks.
 * A crash before 3 leaves unindexed bytes past a pack's committed size; opening for write cuts them.
 */
export interface ChunkStore {
  /** A chunk's row, committed or put by this process; undefined if unknown. */
  lookup(id: Buffer): ChunkInfo | undefined;
  /** Stores an encoded chunk unless already known; returns its info either way. */
  put(chunk: IngestedChunk & { readonly encoded: NonNullable<IngestedChunk['encoded']> }): ChunkInfo;
  sync(): void;
  persist(): void;
  /** Raw bytes of a chunk, decoded and re-hashed; throws ChunkMissingError / ChunkCorruptError. */
  read(id: Buffer): Buffer;
  /** Same, by row id (what object_chunks stores). */
  readByRid(rid: number): Buffer;
  totals(): ChunkTotals;
  /** Reads and re-hashes every chunk; reports each problem, calls onProgress with chunks done. */
  check(onProgress?: (done: number, total: number) => void): ChunkProblem[];
  close(): void;
}

export class ChunkMissingError extends Error {
  override readonly name = 'ChunkMissingError';
  readonly code = 'ERR_CHUNK_MISSING';
}

export class ChunkCorruptError extends Error {
  override readonly name = 'ChunkCorruptError';
  readonly code = 'ERR_CHUNK_CORRUPT';
}
