import type { BlockSpec, WrittenBlock } from '../dag/block-writer.js';
import type { ArchiveContext } from './context.js';
import { requireWriter } from './context.js';

/** The fast-path record of a stored file: unchanged size, mtime, inode and mode mean unchanged content. */
export interface FileCacheEntry {
  /** pathKey() of the absolute path. */
  readonly key: bigint;
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
  /**
   * Main-thread time one transaction of a commit aims at, its commit included: a transaction stops
   * taking objects once it has run this long, and takes as many as the last one managed in this
   * time; the rest of the batch goes in further transactions with the event loop free in between.
   * Default 8 ms: one 96-object transaction held the main thread for 40–260 ms while the 500 MB
   * corpus ingested on a loaded machine.
   */
  readonly sliceMs?: number;
  /**
   * Objects a transaction takes whatever the time (fewer only when fewer wait). Default 16: on a
   * loaded machine the time of a transaction is mostly waiting for a CPU, and sizing by it alone
   * shrank transactions to an object or two, too few for the commits to keep up with the ingest.
   */
  readonly minSliceObjects?: number;
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Group commit: objects whose chunks are written wait briefly and are committed together — one
 * fdatasync of the pack and one SQLite transaction for many small files — and each object's promise
 * resolves only once its transaction has committed. "Store returned" therefore means durable.
 */
export class Committer {
  readonly #ctx: ArchiveContext;
  readonly #maxDelay: number;
  readonly #maxBatch: number;
  readonly #sliceMs: number;
  /** Objects the next transaction may take, sized from the last one's time (commit included). */
  #sliceObjects: number;
  readonly #minSliceObjects: number;
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
    this.#sliceMs = init.sliceMs ?? 8;
    this.#minSliceObjects = Math.max(1, Math.min(this.#maxBatch, init.minSliceObjects ?? 16));
    this.#sliceObjects = this.#maxBatch;
    this.#insertChunk = ctx.db.prepare('INSERT INTO object_chunks (seq, idx, chunk) VALUES (?, ?, ?)');
    this.#upsertCache = ctx.db.prepare(
      `INSERT INTO file_cache (key, size, mtime_ns, ino, mode, seq) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT(key) DO UPDATE SET size = excluded.size, mtime_ns = excluded.mtime_ns, ino = excluded.ino,
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

  /**
   * One commit at a time; objects queued meanwhile go in the next batch. One pack fsync covers the
   * whole batch, then its objects go in time-sliced transactions, each resolving its objects.
   */
  async #drain(): Promise<void> {
    const batch = this.#queue;
    this.#queue = [];
    const ctx = this.#ctx;
    const writer = requireWriter(ctx);
    let done = 0;
    try {
      // Chunk bytes must be durable before the rows that point at them commit. The fdatasync runs
      // on the thread pool and covers every chunk put before it started: all of this batch's.
      // Chunks put while it runs (the ingest goes on) are left for the next commit, which syncs
      // them first; a blocking sync() of them here held the main thread for up to 150 ms.
      const durable = ctx.chunks.mark();
      await ctx.chunks.syncAsync();
      for (let first = true; done < batch.length; first = false) {
        if (!first) await nextTurn();
        const start = performance.now();
        const written = ctx.db
          .transaction(() => {
            // The first transaction indexes every durable chunk, so all of this batch's.
            if (first) ctx.chunks.persist(durable);
            const out: WrittenBlock[] = [];
            do out.push(this.#append(batch[done + out.length]!));
            while (
              done + out.length < batch.length &&
              (out.length < this.#minSliceObjects ||
                (out.length < this.#sliceObjects && performance.now() - start < this.#sliceMs))
            );
            return out;
          })
          .immediate();
        // The commit itself (the transaction's pages written to the WAL) grows with its objects and
        // comes after the check above: size the next transaction from this one's whole time.
        const took = Math.max(performance.now() - start, 0.01);
        const fit = Math.floor((written.length * this.#sliceMs) / took);
        this.#sliceObjects = Math.max(this.#minSliceObjects, Math.min(this.#maxBatch, 2 * written.length, fit));
        // Tell ingest workers their read snapshot is stale (see IngestPoolInit.commits).
        Atomics.add(this.commits, 0, 1);
        written.forEach((w, i) => batch[done + i]!.resolve(w));
        done += written.length;
      }
    } catch (e) {
      this.#failed = e instanceof Error ? e.message : e;
      writer.reload();
      for (const p of batch.slice(done)) p.reject(e);
    }
  }

  /** Inside the transaction: the object's block, its chunk list and its fast-path record. */
  #append(p: Pending): WrittenBlock {
    const ctx = this.#ctx;
    const w = requireWriter(ctx).append(p.spec);
    if (!w.reused) {
      p.chunkIds.forEach((id, i) => {
        const info = ctx.chunks.lookup(id);
        if (!info) throw new Error(`chunk ${id.toString('hex')} vanished before commit`);
        this.#insertChunk.run(w.seq, i, info.rid);
      });
    }
    const f = p.fileCache;
    if (f) this.#upsertCache.run(f.key, f.size, f.mtimeNs, f.ino, f.mode, w.seq);
    return w;
  }
}
