import { lstatSync } from 'node:fs';
import { lstat, readlink } from 'node:fs/promises';
import type { BigIntStats } from 'node:fs';
import { basename, resolve } from 'node:path';
import { MerkleFrontier, merkleRoot } from '../../shared/merkle.js';
import { toHex } from '../../shared/bytes.js';
import type { WrittenBlock } from '../dag/block-writer.js';
import { Codec, type ChunkInfo, type FileInfo, type IngestedChunk } from '../store/types.js';
import type { IngestPool } from '../store/index.js';
import { nodeSha256 } from '../util/sha256.js';
import type { Committer, FileCacheEntry } from './committer.js';
import type { ArchiveContext } from './context.js';
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

/** Chunk bookkeeping for one object: ids in order, stored size counting each distinct chunk once. */
class ObjectChunks {
  readonly ids: Buffer[] = [];
  /** The content root, built as the ids come (see MerkleFrontier). */
  readonly #root = new MerkleFrontier(nodeSha256);
  /** Ids seen (latin1), made at the second chunk: most objects have one. */
  #seen: Set<string> | undefined;
  /** Chunks in groups not sealed yet when they came, and the groups' promises (made when needed). */
  #grouped: Buffer[] | undefined;
  #groups: Set<Promise<void>> | undefined;
  storedSize = 0;

  constructor(private readonly ctx: ArchiveContext) {}

  add = (batch: readonly IngestedChunk[]): void => {
    for (const c of batch) {
      this.ids.push(c.id);
      this.#root.push(c.id);
      if (!this.#isNew(c.id)) continue;
      if (c.grouped) {
        (this.#grouped ??= []).push(c.id);
        (this.#groups ??= new Set()).add(c.grouped);
        continue;
      }
      this.#count(
        c.encoded ? this.ctx.chunks.put(c as Parameters<typeof this.ctx.chunks.put>[0]) : this.ctx.chunks.lookup(c.id),
        c.id,
      );
    }
  };

  /** Whether `id`, just added, is the first of its kind in this object. */
  #isNew(id: Buffer): boolean {
    if (this.ids.length === 1) return true;
    const seen = (this.#seen ??= new Set([this.ids[0]!.toString('latin1')]));
    const k = id.toString('latin1');
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  }

  get contentRoot(): Uint8Array {
    return this.#root.root();
  }

  /**
   * Once every group holding one of the object's chunks is stored, counts those chunks. Returns
   * undefined when there is nothing to wait for (no promise made), else a promise of that.
   */
  settled(): Promise<void> | undefined {
    const groups = this.#groups;
    if (!groups) return undefined;
    const [first] = groups;
    return (groups.size === 1 ? first! : Promise.all(groups)).then(() => {
      for (const id of this.#grouped!) this.#count(this.ctx.chunks.lookup(id), id);
      this.#groups = undefined;
      this.#grouped = undefined;
    });
  }

  #count(info: ChunkInfo | undefined, id: Buffer): void {
    if (!info) throw new Error(`chunk ${id.toString('hex')} reported as stored but not found`);
    this.storedSize += info.storedLength;
  }
}

function fileMeta(name: string, st: FileInfo): Record<string, string> {
  return { mode: (Number(st.mode) & 0o7777).toString(8).padStart(4, '0'), mtime: String(mtimeMs(st)), name };
}

/** The stored file's result when its cache row says it is unchanged (size, mtime, inode, mode). */
function fastHit(cached: CacheRow | undefined, st: FileInfo, path: string): StoreResult | undefined {
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
 * Stores what the walk's directory entry says is a regular file, without a stat here when the
 * fast-path cache has no record of its path (a file never stored from there, as in a first store):
 * the ingest worker's fstat of the file it opened gives its size, mtime, inode and mode, and the
 * main thread saves an lstat per file. With a record, the file is stat'ed for the fast path; if it
 * is no longer a regular file, its stat is returned (`other`) and nothing is stored. `dirCache`:
 * the records of the file's directory, read beforehand (directoryCache).
 */
export async function storeListedFile(
  ing: Ingester,
  path: string,
  dirCache: ReadonlyMap<bigint, CacheRow>,
  signal?: AbortSignal,
  onIngested?: () => void,
  abs = resolve(path),
): Promise<{ result: StoreResult; st: FileInfo } | { other: BigIntStats }> {
  const key = pathKey(abs);
  const cached = dirCache.get(key);
  if (!cached) return ingestFile(ing, path, abs, key, undefined, signal, onIngested);
  const st = lstatSync(abs, { bigint: true });
  if (!st.isFile()) return { other: st };
  const hit = fastHit(cached, st, path);
  return hit ? { result: hit, st } : ingestFile(ing, path, abs, key, st, signal, onIngested);
}

/** Ingests and commits one file; `st` is its stat before reading (undefined: the worker's, as opened). */
async function ingestFile(
  ing: Ingester,
  path: string,
  abs: string,
  key: bigint,
  st: FileInfo | undefined,
  signal?: AbortSignal,
  onIngested?: () => void,
): Promise<{ result: StoreResult; st: FileInfo }> {
  const { ctx } = ing;
  const chunks = new ObjectChunks(ctx);
  const began = BigInt(Date.now()) * 1_000_000n;
  let size: number;
  let opened: FileInfo;
  try {
    const r = await ing.pool.ingestFile(abs, chunks.add, signal);
    size = r.size;
    opened = r.stat ?? (await lstat(abs, { bigint: true }));
  } finally {
    // The chunks are stored: the caller may start the next file while this one waits to commit.
    onIngested?.();
  }
  const seen: FileInfo = st ?? opened;
  const grouped = chunks.settled();
  if (grouped) await grouped;
  const fileCache: FileCacheEntry | undefined = trustworthy(seen, opened, size, began)
    ? { key, size, mtimeNs: seen.mtimeNs, ino: seen.ino, mode: Number(seen.mode) }
    : undefined;
  const w = await ing.committer.submit(
    {
      kind: 'file',
      contentRoot: chunks.contentRoot,
      size,
      storedSize: chunks.storedSize,
      chunkCount: chunks.ids.length,
      codec: codecName(ctx.zstdLevel),
      meta: fileMeta(basename(abs), seen),
    },
    chunks.ids,
    fileCache,
  );
  return { result: result(w, path, 'file'), st: seen };
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
  const { size } = await ing.pool.ingestStream(parts, chunks.add, signal);
  await chunks.settled();
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
