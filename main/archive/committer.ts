import type { BlockSpec, WrittenBlock } from '../dag/block-writer.js';
import type { ArchiveContext } from './context.js';
import { requireWriter } from './context.js';

/** The fast-path record of a stored file: unchanged size, mtime, inode and mode mean unchanged content. */
export interface FileCacheEntry {
  readonly path: string;
  readonly size: number;
  readonly mtimeNs: bigint;
  readonly ino: bigint;
  readonly mode: number;
}

interface Pending {
  readonly spec: BlockSpec;
  readonly chunkIds: readonly Buffer[];
  readonly fileCache?: FileCacheEntry;
  resolve(w: WrittenBlock): void;
  reject(e: unknown): void;
}

export interface CommitterInit {
  /** Longest an object waits to be committed with others. Default 200 ms. */
  readonly maxDelayMs?: number;
  /**
   * Commit as soon as this many objects wait. Default 96: each commit stays a short pause for the
   * event loop (256 gave a p99 event-loop delay of 70 ms while a sync folder ingested the 500 MB
   * corpus, 96 gives 40 ms, and the ingest was no slower).
   */
  readonly maxBatch?: number;
}

/**
 * Group commit: objects whose chunks are written wait briefly and are committed together — one
 * fdatasync of the pack and one SQLite transaction for many small files — and each object's promise
 * resolves only once its transaction has committed. "Store returned" therefore means durable.
 */
export class Committer {
  readonly #ctx: ArchiveContext;
  readonly #maxDelay: number;
  readonly #maxBatch: number;
  #queue: Pending[] = [];
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  /** Set when a commit failed: in-memory state may disagree with the database, so stop writing. */
  #failed: unknown;
  readonly #insertChunk;
  readonly #upsertCache;

  /** Incremented after every commit; shared with the ingest workers. */
  readonly commits = new Int32Array(new SharedArrayBuffer(4));

  constructor(ctx: ArchiveContext, init: CommitterInit = {}) {
    this.#ctx = ctx;
    this.#maxDelay = init.maxDelayMs ?? 200;
    this.#maxBatch = init.maxBatch ?? 96;
    this.#insertChunk = ctx.db.prepare('INSERT INTO object_chunks (seq, idx, chunk) VALUES (?, ?, ?)');
    this.#upsertCache = ctx.db.prepare(
      `INSERT INTO file_cache (path, size, mtime_ns, ino, mode, seq) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT(path) DO UPDATE SET size = excluded.size, mtime_ns = excluded.mtime_ns, ino = excluded.ino,
         mode = excluded.mode, seq = excluded.seq`,
    );
  }

  submit(spec: BlockSpec, chunkIds: readonly Buffer[], fileCache?: FileCacheEntry): Promise<WrittenBlock> {
    return new Promise((resolve, reject) => {
      if (this.#failed) {
        reject(new Error(`an earlier commit failed (${String(this.#failed)}); reopen the archive`));
        return;
      }
      this.#queue.push({ spec, chunkIds, fileCache, resolve, reject });
      if (this.#queue.length >= this.#maxBatch) this.#kick();
      else this.#timer ??= setTimeout(() => this.#kick(), this.#maxDelay);
    });
  }

  /** Commits whatever waits, and resolves once it (and any commit under way) is done. */
  async flush(): Promise<void> {
    // Objects may be queued while a commit runs; keep going until nothing waits.
    while (this.#running || this.#queue.length > 0) {
      this.#kick();
      if (this.#running) await this.#running;
    }
  }

  #kick(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#running || this.#queue.length === 0) return;
    this.#running = this.#drain().finally(() => {
      this.#running = undefined;
      if (this.#queue.length > 0) this.#timer ??= setTimeout(() => this.#kick(), this.#maxDelay);
    });
  }

  /** One commit at a time; objects queued meanwhile go in the next batch. */
  async #drain(): Promise<void> {
    const batch = this.#queue;
    this.#queue = [];
    const ctx = this.#ctx;
    const writer = requireWriter(ctx);
    let written: WrittenBlock[];
    try {
      // Chunk bytes must be durable before the rows that point at them commit. The long fdatasync
      // runs on the thread pool; sync() then covers only bytes written while it ran.
      await ctx.chunks.syncAsync();
      ctx.chunks.sync();
      written = ctx.db
        .transaction(() => {
          ctx.chunks.persist();
          return batch.map((p) => {
            const w = writer.append(p.spec);
            if (!w.reused) {
              p.chunkIds.forEach((id, i) => {
                const info = ctx.chunks.lookup(id);
                if (!info) throw new Error(`chunk ${id.toString('hex')} vanished before commit`);
                this.#insertChunk.run(w.seq, i, info.rid);
              });
            }
            const f = p.fileCache;
            if (f) this.#upsertCache.run(f.path, f.size, f.mtimeNs, f.ino, f.mode, w.seq);
            return w;
          });
        })
        .immediate();
    } catch (e) {
      this.#failed = e instanceof Error ? e.message : e;
      writer.reload();
      for (const p of batch) p.reject(e);
      return;
    }
    // Tell ingest workers their read snapshot is stale (see IngestPoolInit.commits).
    if (this.commits) Atomics.add(this.commits, 0, 1);
    batch.forEach((p, i) => p.resolve(written[i]!));
  }
}
