/**
 * The chunk layer's public types. An object's bytes are cut by content-defined chunking, each chunk
 * named by SHA-256 of its raw bytes, compressed with zstd unless that does not pay, and kept once.
 */
import type { Db } from '../db/database.js';

/** Content-defined chunking parameters (bytes). Recorded in the genesis block; never change for an archive. */
export interface ChunkerParams {
  readonly min: number;
  readonly avg: number;
  readonly max: number;
}

/**
 * How a chunk's bytes are stored. A plain (not `const`) enum: `isolatedModules` forbids reading a
 * const enum through another project's declarations (bench/ and test/ see main/ that way).
 */
export enum Codec {
  Raw = 0,
  Zstd = 1,
  /** Inside a group: one zstd frame holding several small chunks' raw bytes (see SealedGroup). */
  Grouped = 2,
}

/**
 * The condition that finds a chunk by id through its 8-byte prefix index (schema 13); bind the id
 * twice.
 */
export const CHUNK_BY_ID = 'substr(id, 1, 8) = substr(?, 1, 8) AND id = ?';

/**
 * Small chunks compress poorly one by one (a 6 KB man page at zstd-3 has no history to draw on), so
 * ingest workers gather new chunks under `GROUP_CHUNK_MAX` bytes and compress them together, about
 * `DEFAULT_GROUP_BYTES` of raw bytes per zstd frame. On the corpus of docs/BENCHMARKS.md this stores
 * the small files' 192 MB in 44 MB instead of 72 MB.
 */
export const GROUP_CHUNK_MAX = 64 * 1024;
export const DEFAULT_GROUP_BYTES = 2 ** 20;

/** A chunk inside a sealed group: its id, raw length, and where its bytes start in the group. */
export interface GroupMember {
  readonly id: Buffer;
  readonly rawLength: number;
  readonly at: number;
}

/** A group as a worker seals it: one zstd frame of `rawLength` bytes holding its members' raw bytes. */
export interface SealedGroup {
  readonly frame: Buffer;
  readonly rawLength: number;
  readonly members: readonly GroupMember[];
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
  /**
   * Set for a new small chunk the worker put in one of its groups instead of encoding it alone: it
   * settles once that group was handed to `IngestPoolInit.onGroup` (after which the chunk store
   * knows the chunk), or rejects if the group was lost with its worker.
   */
  readonly grouped?: Promise<void>;
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
 *      or, to keep that wait off the event loop, take `mark()` and `await syncAsync()`;
 *   3. `persist()` — inside the archive's SQLite transaction: index the chunks put since the last
 *      persist, so the transaction that commits an object also commits its chunks. After an async
 *      sync, `persist(mark)`: chunks put while it ran are not durable yet and wait for the next.
 * A crash before 3 leaves unindexed bytes past a pack's committed size; opening for write cuts them.
 */
export interface ChunkStore {
  /** A chunk's row, committed or put by this process; undefined if unknown. */
  lookup(id: Buffer): ChunkInfo | undefined;
  /**
   * Notes that a new object references these chunks (as `lookup` returned them). True when one of
   * them was put by this process and no object referenced it before: no stored object can then have
   * the same content, and the archive skips looking for one.
   */
  claim(chunks: readonly ChunkInfo[]): boolean;
  /** Stores an encoded chunk unless already known; returns its info either way. */
  put(chunk: NewChunk): ChunkInfo;
  /**
   * Whether `putGroup` is supported (pack stores). Where it is not, the ingest pool must not group.
   */
  readonly groups: boolean;
  /**
   * Stores a group's frame once and indexes each member not already known as a grouped chunk; a
   * member known already (a duplicate sealed by another worker) keeps its old row, and the others
   * share the frame's length between them.
   */
  putGroup(group: SealedGroup): void;
  /** Makes every chunk put so far durable (blocks on fdatasync for pack stores). */
  sync(): void;
  /**
   * The same on the thread pool, so the event loop stays free. Chunks put while it runs are not
   * covered: call `sync()` after it (it then only has those left to do). Let it settle before `close()`.
   */
  syncAsync(): Promise<void>;
  /** A position in the order of puts: `persist(mark)` indexes only the chunks put before it. */
  mark(): number;
  /**
   * Indexes the chunks put since the last persist (with `before`, only those put before that mark);
   * call inside the archive's transaction.
   */
  persist(before?: number): void;
  /**
   * After the archive's transaction committed (or rolled back), outside any: chunks whose rows are
   * now committed leave memory, and any whose rows are gone are pending again.
   */
  settle(): void;
  /** Raw bytes of a chunk, decoded and re-hashed; throws ChunkMissingError / ChunkCorruptError. */
  read(id: Buffer): Buffer;
  /** Same, by row id (what object_chunks stores). */
  readByRid(rid: number): Buffer;
  totals(): ChunkTotals;
  /** Reads and re-hashes every chunk; reports each problem, calls onProgress with chunks done. */
  check(onProgress?: (done: number, total: number) => void): ChunkProblem[];
  close(): void;
}

/** A chunk with its encoded bytes, as `ChunkStore.put` takes it. */
export type NewChunk = IngestedChunk & { readonly encoded: NonNullable<IngestedChunk['encoded']> };

/** Where a store keeps chunk bytes: pack files indexed in SQLite, or inline in SQLite. */
export type ChunkStoreKind = 'pack' | 'sqlite';

/** Options of `createChunkStore`. */
export interface ChunkStoreInit {
  /** The archive database (migrated); opened read-only for a reader. */
  readonly db: Db;
  /** The archive directory; pack files live in `<dir>/packs/`. */
  readonly dir: string;
  /** A reader: never writes, truncates or deletes anything. Default false. */
  readonly readonly?: boolean;
  /** Pack stores start a new pack file once the current one would pass this size. Default 1 GiB. */
  readonly packSizeLimit?: number;
}

/** Options of the errors below: the chunk concerned (hex id), and the underlying error. */
export interface ChunkErrorOptions extends ErrorOptions {
  readonly chunkId?: string;
}

/** A chunk that could not be returned; `chunkId` names it (hex) when known. */
abstract class ChunkError extends Error {
  /** Hex id of the chunk, when known. */
  readonly chunkId: string | undefined;
  constructor(message: string, options: ChunkErrorOptions = {}) {
    super(message, options);
    this.chunkId = options.chunkId;
  }
}

export class ChunkMissingError extends ChunkError {
  override readonly name = 'ChunkMissingError';
  readonly code = 'ERR_CHUNK_MISSING';
}

export class ChunkCorruptError extends ChunkError {
  override readonly name = 'ChunkCorruptError';
  readonly code = 'ERR_CHUNK_CORRUPT';
}

/** A write (put, sync, persist) on a store opened read-only. */
export class ChunkStoreReadonlyError extends Error {
  override readonly name = 'ChunkStoreReadonlyError';
  readonly code = 'ERR_CHUNK_STORE_READONLY';
}

/** The index already holds the chunk under another row id: a second writer touched the archive. */
/** An ingest worker exited (crashed) while it had work: that work fails, a new worker takes the next. */
export class IngestWorkerCrashedError extends Error {
  override readonly name = 'IngestWorkerCrashedError';
  readonly code = 'ERR_INGEST_WORKER_CRASHED';
}

export class IngestPoolClosedError extends Error {
  override readonly name = 'IngestPoolClosedError';
  readonly code = 'ERR_INGEST_POOL_CLOSED';
}

export class ChunkStoreConflictError extends Error {
  override readonly name = 'ChunkStoreConflictError';
  readonly code = 'ERR_CHUNK_STORE_CONFLICT';
}

/**
 * Receives an ingest's chunks in input order; the next batch waits until the returned promise
 * settles. The chunks' `encoded.data` are views of a buffer the worker reuses: they hold the bytes
 * until then, and are empty after (copy what must outlive the call, as a chunk store's put does).
 */
export type OnIngestBatch = (chunks: IngestedChunk[]) => void | Promise<void>;

/**
 * Told about one input's ingest, in order: its batches, then how it ended (exactly one of
 * `ingested` and `failed`). What `ingestFile` does with a promise and closures, one object does here:
 * a store has hundreds of files in flight, and what each holds is what the main thread's garbage
 * collector copies while it waits.
 */
export interface IngestSink {
  /** As an OnIngestBatch: a returned promise holds the next batch (and the end) until it settles. */
  onBatch(chunks: IngestedChunk[]): void | Promise<void>;
  /** Every batch is handled: `size` bytes were read; `stat` as for IngestResult. */
  ingested(size: number, stat: FileInfo | undefined): void;
  /** The ingest failed (the file's fs error, a batch's handler threw, cancelled, the pool closed). */
  failed(e: unknown): void;
}

/** A file handed to the pool with {@link IngestPool.startFile}, to cancel it by. */
export interface IngestJob {
  readonly id: number;
}

/** Options of `createIngestPool`. */
export interface IngestPoolInit {
  /** The archive's chunking parameters. */
  readonly params: ChunkerParams;
  /** zstd level new chunks are compressed with. */
  readonly zstdLevel: number;
  /**
   * The archive database. Workers open it read-only to skip compressing chunks it already holds
   * (those come back without bytes). Without it every chunk is compressed.
   */
  readonly dbFile?: string;
  /** Worker threads, started on demand. Default `os.availableParallelism()`. */
  readonly workers?: number;
  /**
   * Run workers at low priority (nice 10, Linux), so the main thread and the user's programs come
   * first; ingest then only uses otherwise idle CPU. Default true.
   */
  readonly lowPriority?: boolean;
  /**
   * A counter over a SharedArrayBuffer that the archive increments after every commit. Workers
   * share one read snapshot for their "already stored?" lookups and take a fresh one whenever the
   * counter has moved, so they see every committed chunk without locking SQLite per query.
   * Without it, every lookup reads the newest state.
   */
  readonly commits?: Int32Array;
  /**
   * With `commits`: a snapshot is kept this long (ms) before a moved counter renews it. Default
   * 1,000. SQLite drops a connection's whole page cache when it starts a read transaction on a
   * database another connection changed, so a worker that renewed its snapshot after every commit
   * (every 50 ms of a bulk store) read its index pages again each time. `pakit store` of the 500 MB
   * corpus under `strace -f -c`: 33,363 preads renewing at every commit, 16,479 with the default.
   * A stale snapshot only misses chunks committed meanwhile: they are compressed and sent again,
   * and the archive keeps the copy it has.
   */
  readonly snapshotMaxAgeMs?: number;
  /**
   * With `commits`: a worker's snapshot is released after this long (ms) without a lookup. Default
   * 20: at the end of a store the workers fall idle while the last commits go in, and the
   * checkpoint asked for then (WalCheckpointer.soon) can copy only the frames no snapshot still
   * needs; released after 200 ms, they left most of that copy to closing the archive, on the main
   * thread (storing the bench corpus, from the last result to the database closed: 112–124 ms with
   * 200, 89–98 ms with 20; preads of the whole store 914 against 1,076).
   */
  readonly snapshotIdleMs?: number;
  /**
   * Raw bytes a worker gathers per group of small chunks (see GROUP_CHUNK_MAX); 0 turns grouping
   * off, and then `onGroup` is not needed. Default 0.
   */
  readonly groupBytes?: number;
  /**
   * Receives each sealed group, on the main thread, before the chunks in it are reported settled.
   * The group's `frame` is a view of a buffer the worker reuses: empty once the call returns.
   */
  readonly onGroup?: (group: SealedGroup) => void;
  /**
   * A worker left with nothing to do for this long (ms) is stopped, and what it held is freed: its
   * heap (~40 MB after a large store), its reusable buffers (up to ~25 MB), its read connection. The
   * next input starts a new one (~0.1 s). Default 30,000; 0 keeps the workers until `close`.
   */
  readonly idleRetireMs?: number;
}

/** A file's stat fields the archive records or compares (as fs.BigIntStats has them). */
export interface FileInfo {
  readonly size: bigint;
  readonly mtimeNs: bigint;
  readonly ino: bigint;
  readonly mode: bigint;
}

/**
 * What an ingest returns: bytes read and, for a file, its size and mtime (ns) by fstat after
 * reading, and `opened`: its stat right after it was opened, before the first read.
 */
export interface IngestResult {
  readonly size: number;
  /** For a file: its stat as the worker opened it, before the first read. */
  readonly stat?: FileInfo;
}

/**
 * Chunks, hashes and compresses bytes in worker threads, one input per worker at a time (more wait
 * in a queue), so the main thread only stores what comes back. Each input's batches arrive in order
 * and the worker never runs more than a few MiB ahead of the acknowledged ones, so memory stays
 * bounded whatever the input's size.
 */
export interface IngestPool {
  /** How many inputs it ingests at once (its worker count). */
  readonly size: number;
  /** Workers running now: started on demand, stopped after idleRetireMs with nothing to do. */
  readonly running: number;
  /** Reads and ingests a file in a worker; rejects with the fs error (its `code` kept) if it cannot. */
  ingestFile(path: string, onBatch: OnIngestBatch, signal?: AbortSignal): Promise<IngestResult>;
  /** As ingestFile, told through `sink` (never during this call); cancelled by {@link cancel}. */
  startFile(path: string, sink: IngestSink): IngestJob;
  /** Fails `job` with `reason` (its sink's `failed`) unless it has already ended; stops its worker's work on it. */
  cancel(job: IngestJob, reason: unknown): void;
  /** Ingests bytes pushed from this thread (bounded: the source is pulled as the worker consumes). */
  ingestStream(source: AsyncIterable<Uint8Array>, onBatch: OnIngestBatch, signal?: AbortSignal): Promise<IngestResult>;
  /** Rejects what is queued or running and terminates the workers. */
  close(): Promise<void>;
}
