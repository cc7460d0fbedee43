import { lstat, readlink } from 'node:fs/promises';
import type { BigIntStats } from 'node:fs';
import { basename, resolve } from 'node:path';
import { merkleRoot } from '../../shared/merkle.js';
import { toHex } from '../../shared/bytes.js';
import type { BlockSpec, WrittenBlock } from '../dag/block-writer.js';
import { Codec, type FileInfo, type IngestedChunk, type IngestJob, type IngestSink } from '../store/types.js';
import type { IngestPool } from '../store/index.js';
import { nodeSha256 } from '../util/sha256.js';
import type { CommitSink, Committer, FileCacheEntry } from './committer.js';
import type { ArchiveContext } from './context.js';
import { ObjectChunks } from './object-chunks.js';
import { onAbort } from '../util/on-abort.js';
import { cacheRecord, pathKey, trustworthy, type CacheRow } from './file-cache.js';

/** One stored object as the CLI prints it. */
export interface StoreResult {
  readonly hash: string;
  readonly path: string;
  readonly kind: 'file' | 'symlink' | 'snapshot';
  readonly size: number;
  readonly storedSize: number;
  /** An identical object was already stored (no new block); `fast` when found by size+mtime alone. */
  readonly reused: boolean;
  readonly fast?: boolean;
}

export interface StoreProblem {
  readonly path: string;
  readonly code: string;
  readonly message: string;
}

export interface StoreOptions {
  readonly signal?: AbortSignal;
  /** Called for every stored file, in walk order, and for each directory's snapshot after its files. */
  readonly onResult?: (r: StoreResult) => void;
  /** Called for every path that could not be stored; the rest continues. */
  readonly onProblem?: (p: StoreProblem) => void;
  /** Progress: files and bytes done so far. */
  readonly onProgress?: (e: { type: 'pakit:store:progress'; files: number; bytes: number }) => void;
}

export interface Ingester {
  readonly ctx: ArchiveContext;
  readonly pool: IngestPool;
  readonly committer: Committer;
}

const codecName = (level: number): string => `zstd-${level}`;
/** A stat's mtime in whole milliseconds, as blocks and snapshots record it. */
export const mtimeMs = (st: { readonly mtimeNs: bigint }): number => Number(st.mtimeNs / 1_000_000n);

function fileMeta(name: string, st: FileInfo): Record<string, string> {
  return { mode: (Number(st.mode) & 0o7777).toString(8).padStart(4, '0'), mtime: String(mtimeMs(st)), name };
}

/** The stored file's result when its cache row says it is unchanged (size, mtime, inode, mode). */
export function fastHit(cached: CacheRow | undefined, st: FileInfo, path: string): StoreResult | undefined {
  if (
    !cached ||
    cached.kind !== 'file' ||
    cached.size !== st.size ||
    cached.mtime_ns !== st.mtimeNs ||
    cached.ino !== st.ino ||
    cached.mode !== st.mode
  )
    return undefined;
  return {
    hash: cached.hash.toString('hex'),
    path,
    kind: 'file',
    size: Number(cached.block_size),
    storedSize: Number(cached.stored_size),
    reused: true,
    fast: true,
  };
}

/** Stores one regular file; unchanged size+mtime+inode+mode since the last store returns the old block. */
export async function storeFile(
  ing: Ingester,
  path: string,
  st: FileInfo,
  signal?: AbortSignal,
  onIngested?: () => void,
  abs = resolve(path),
): Promise<StoreResult> {
  const key = pathKey(abs);
  const hit = fastHit(cacheRecord(ing.ctx, key), st, path);
  return hit ?? (await ingestFile(ing, path, abs, key, st, signal, onIngested)).result;
}

/**
 * One file's way through a store, as one object: handed to an ingest worker, its chunks counted as
 * they come (IngestSink), then — once any group holding its new chunks is stored — its block
 * submitted to the group commit (CommitSink), and at last its result told to the subclass. A store
 * has hundreds of files in flight, each waiting on a worker or a commit for tens of milliseconds:
 * held as promise chains (an async function per step, each with its reactions, closures and
 * contexts) they made most of what the main thread's young generation copied and promoted.
 */
export abstract class FileIngest implements IngestSink, CommitSink {
  readonly #ing: Ingester;
  /** Made with the first batch: a file waiting for a worker holds as little as it can. */
  #chunks: ObjectChunks | undefined;
  readonly #key: bigint;
  /** The file's stat before reading (undefined: the worker's, as it opened it). */
  #st: FileInfo | undefined;
  /** When it was handed to the pool (ms since the epoch). */
  #began = 0;
  #size = 0;
  #opened: FileInfo | undefined;
  #job: IngestJob | undefined;
  /** Whether read() is still to be called, and whether the file's end was told. */
  #reading = true;
  #over = false;

  /** `path` as the caller named it (the result's path), `abs` resolved (read, and keyed, by it). */
  constructor(
    ing: Ingester,
    readonly path: string,
    readonly abs: string,
    key: bigint,
    st: FileInfo | undefined,
  ) {
    this.#ing = ing;
    this.#key = key;
    this.#st = st;
  }

  /** Hands the file to the ingest pool. */
  start(): void {
    this.#began = Date.now();
    this.#job = this.#ing.pool.startFile(this.abs, this);
  }

  /** Stops the file's ingest if it is still under way; it then fails with `reason`. */
  cancel(reason: unknown): void {
    if (this.#job) this.#ing.pool.cancel(this.#job, reason);
  }

  /** The file's chunks are stored, or it failed before they were: the next file may start. */
  protected abstract read(): void;
  /** The file's block is committed. `st`: its stat as stored (the caller's, or the worker's). */
  protected abstract stored(result: StoreResult, st: FileInfo): void;
  /** The file could not be stored. */
  protected abstract lost(e: unknown): void;

  onBatch(batch: IngestedChunk[]): void {
    (this.#chunks ??= new ObjectChunks(this.#ing.ctx)).add(batch);
  }

  ingested(size: number, stat: FileInfo | undefined): void {
    this.#job = undefined;
    this.#size = size;
    this.#doneReading();
    if (stat) {
      this.#opened = stat;
      this.#afterRead();
      return;
    }
    lstat(this.abs, { bigint: true }).then(
      (opened) => {
        this.#opened = opened;
        this.#afterRead();
      },
      (e: unknown) => this.failed(e),
    );
  }

  #afterRead(): void {
    const grouped = this.#chunks?.groupsStored();
    if (!grouped) this.#submit();
    else
      grouped.then(
        () => this.#submit(),
        (e: unknown) => this.failed(e),
      );
  }

  #submit(): void {
    const ctx = this.#ing.ctx;
    const chunks = (this.#chunks ??= new ObjectChunks(ctx));
    const opened = this.#opened!;
    const seen = this.#st ?? opened;
    const size = this.#size;
    try {
      chunks.countGrouped();
      const fileCache: FileCacheEntry | undefined = trustworthy(seen, opened, size, BigInt(this.#began) * 1_000_000n)
        ? { key: this.#key, size, mtimeNs: seen.mtimeNs, ino: seen.ino, mode: Number(seen.mode) }
        : undefined;
      const spec: BlockSpec = {
        kind: 'file',
        contentRoot: chunks.contentRoot,
        size,
        storedSize: chunks.storedSize,
        chunkCount: chunks.ids.length,
        codec: codecName(ctx.zstdLevel),
        meta: fileMeta(basename(this.abs), seen),
      };
      this.#ing.committer.submitTo(spec, chunks.ids, fileCache, this);
      this.#chunks = undefined;
    } catch (e) {
      this.failed(e);
    }
  }

  committed(w: WrittenBlock): void {
    if (this.#over) return;
    this.#over = true;
    const st = this.#st ?? this.#opened!;
    this.#st = this.#opened = undefined;
    this.stored(result(w, this.path, 'file'), st);
  }

  failed(e: unknown): void {
    if (this.#over) return;
    this.#over = true;
    this.#job = undefined;
    this.#chunks = undefined;
    this.#doneReading();
    this.lost(e);
  }

  #doneReading(): void {
    if (!this.#reading) return;
    this.#reading = false;
    this.read();
  }
}

/** A FileIngest told through a promise, for callers that store one file at a time. */
class PromisedFile extends FileIngest {
  constructor(
    ing: Ingester,
    path: string,
    abs: string,
    key: bigint,
    st: FileInfo | undefined,
    private readonly onIngested: (() => void) | undefined,
    private readonly resolve: (v: { result: StoreResult; st: FileInfo }) => void,
    private readonly reject: (e: unknown) => void,
  ) {
    super(ing, path, abs, key, st);
  }

  protected read(): void {
    this.onIngested?.();
  }

  protected stored(result: StoreResult, st: FileInfo): void {
    this.resolve({ result, st });
  }

  protected lost(e: unknown): void {
    this.reject(e);
  }
}

/** Ingests and commits one file; `st` is its stat before reading (undefined: the worker's, as opened). */
function ingestFile(
  ing: Ingester,
  path: string,
  abs: string,
  key: bigint,
  st: FileInfo | undefined,
  signal?: AbortSignal,
  onIngested?: () => void,
): Promise<{ result: StoreResult; st: FileInfo }> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const file = new PromisedFile(
      ing,
      path,
      abs,
      key,
      st,
      onIngested,
      (v) => {
        stopListening();
        resolve(v);
      },
      (e) => {
        stopListening();
        reject(e);
      },
    );
    const stopListening = onAbort(signal, (reason) => file.cancel(reason));
    file.start();
  });
}

/** Stores a symbolic link as a link (its target), never following it. */
export async function storeSymlink(
  ing: Ingester,
  path: string,
  st: BigIntStats,
  linkTarget?: string,
): Promise<StoreResult> {
  const { ctx } = ing;
  const target = Buffer.from(linkTarget ?? (await readlink(path)));
  const id = Buffer.from(nodeSha256(target));
  const info = ctx.chunks.put({ id, rawLength: target.length, encoded: { codec: Codec.Raw, data: target } });
  const w = await ing.committer.submit(
    {
      kind: 'symlink',
      contentRoot: merkleRoot([id], nodeSha256),
      size: target.length,
      storedSize: info.storedLength,
      chunkCount: 1,
      codec: 'raw',
      meta: { mtime: String(mtimeMs(st)), name: basename(path) },
    },
    [id],
  );
  return result(w, path, 'symlink');
}

/**
 * Stores bytes made in memory (a snapshot manifest), chunked in a worker like any file. The parts
 * are taken as they are made; their maker yields the event loop between them (snapshotParts), as a
 * whole tree's manifest is megabytes.
 */
export async function storeBytes(
  ing: Ingester,
  parts: AsyncIterable<Uint8Array>,
  kind: 'file' | 'snapshot',
  meta: Record<string, string>,
  signal?: AbortSignal,
): Promise<WrittenBlock> {
  const chunks = new ObjectChunks(ing.ctx);
  const { size } = await ing.pool.ingestStream(parts, (b) => chunks.add(b), signal);
  await chunks.groupsStored();
  chunks.countGrouped();
  return ing.committer.submit(
    {
      kind,
      contentRoot: chunks.contentRoot,
      size,
      storedSize: chunks.storedSize,
      chunkCount: chunks.ids.length,
      codec: codecName(ing.ctx.zstdLevel),
      meta,
    },
    chunks.ids,
  );
}

function result(w: WrittenBlock, path: string, kind: StoreResult['kind']): StoreResult {
  return { hash: toHex(w.hash), path, kind, size: w.header.size, storedSize: w.header.storedSize, reused: w.reused };
}

export { result as storeResult };
