import type { BlockSpec, WrittenBlock } from '../dag/block-writer.js';
import { MULTI_ROW_INSERT } from '../db/database.js';
import type { ChunkInfo } from '../store/types.js';
import { HeaderFormatError } from '../../shared/block-header.js';
import type { ArchiveContext } from './context.js';
import { requireWriter } from './context.js';
import { nextTurn } from '../util/next-turn.js';

/** The fast-path record of a stored file: unchanged size, mtime, inode and mode mean unchanged content. */
export interface FileCacheEntry {
  /** pathKey() of the absolute path. */
  readonly key: bigint;
  readonly size: number;
  readonly mtimeNs: bigint;
  readonly ino: bigint;
  readonly mode: number;
}

/**
 * Told how one submitted object ended: committed (its block as written) or failed. Neither may
 * throw. A store in flight holds hundreds of objects; one sink object each (rather than a promise,
 * its reactions and their closures) keeps what the main thread's young generation must copy small.
 */
export interface CommitSink {
  committed(w: WrittenBlock): void;
  failed(e: unknown): void;
}

interface Pending {
  readonly spec: BlockSpec;
  readonly chunkIds: readonly Buffer[];
  readonly fileCache: FileCacheEntry | undefined;
  readonly sink: CommitSink;
  /** Set once appended in the open transaction. */
  written?: WrittenBlock;
}

export interface CommitterInit {
  /**
   * Longest an object waits, appended in the open transaction, before that transaction commits.
   * Default 50 ms: storing the 500 MB corpus in-process, 20–50 ms gave an event-loop p99 of
   * 28–31 ms and no stall over 50 ms in most runs; 100–200 ms gave 34–36 ms and stalls of 60–100 ms,
   * and no faster ingest.
   */
  readonly maxDelayMs?: number;
  /** Commit as soon as the open transaction holds this many objects. Default 4096. */
  readonly maxBatch?: number;
  /**
   * Main-thread time one turn of appending aims at: a slice stops taking objects once it has run
   * this long, and the event loop runs before the next. Default 8 ms.
   */
  readonly sliceMs?: number;
  /**
   * Objects a slice takes whatever the time (fewer only when fewer wait). Default 16: on a loaded
   * machine a slice's time is mostly waiting for a CPU, and sizing by it alone shrank slices to an
   * object or two, too few to keep up with the ingest.
   */
  readonly minSliceObjects?: number;
  /** Called when a caller starts to {@link Committer.hurry}: the writer expects to be done soon. */
  readonly onHurry?: () => void;
}

/** Committed objects told in one turn of the event loop. */
const RESOLVE_PER_TURN = 64;

/** Rows of an object's chunk list per INSERT (3 parameters each; SQLite allows 32,766). */
const CHUNK_ROWS = 64;

/**
 * Group commit. Objects whose chunks are written are appended to one open SQLite transaction, a
 * slice per turn of the event loop, and it commits once its oldest object has waited `maxDelayMs`
 * (or it is full, or on flush): one fdatasync of the pack and one commit for many files.
 * Each object's promise resolves only once its transaction has committed, so "store returned"
 * means committed: it survives the process being killed at any moment (test/main/archive/crash.spec.ts).
 * Its chunks are on disk (the pack is fdatasync'd first), but with synchronous=NORMAL the WAL
 * itself is synced only at checkpoints, so a power loss or OS crash may lose the last transactions,
 * never consistency (see openDb).
 *
 * Why one transaction across turns rather than one per turn: block hashes, chunk ids and path keys
 * are random, so nearly every object dirties its own pages of four indexes, and each transaction
 * writes every page it dirtied to the WAL again. A transaction per slice wrote the 500 MB
 * corpus's 18 MB database out ~50 times over (455,000 WAL writes); one per 50 ms writes each hot
 * page a few times a second instead. Between slices the event loop is free; only the commit itself
 * (the dirty pages into the WAL) is one piece.
 *
 * While a transaction is open, other statements on the connection see its rows, and other
 * writers' transactions nest in it as savepoints (they commit with it). Whoever needs committed
 * state now — signing a checkpoint — calls {@link commitNow}.
 */
export class Committer {
  readonly #ctx: ArchiveContext;
  readonly #maxDelay: number;
  readonly #maxBatch: number;
  readonly #sliceMs: number;
  readonly #minSliceObjects: number;
  readonly #onHurry: (() => void) | undefined;
  #queue: Pending[] = [];
  /** Objects committed and not yet told (see #run). */
  #committed: Pending[] = [];
  /** Objects appended in the open transaction (undefined: none is open). */
  #open: Pending[] | undefined;
  #openedAt = 0;
  #running: Promise<void> | undefined;
  /** Wakes the runner from waiting for the commit deadline. */
  #wake: (() => void) | undefined;
  #flushing = 0;
  /** Set when a commit failed: in-memory state may disagree with the database, so stop writing. */
  #failed: unknown;
  readonly #insertChunk;
  readonly #insertChunks;
  readonly #upsertCache;

  /** Incremented after every commit; shared with the ingest workers. */
  readonly commits = new Int32Array(new SharedArrayBuffer(4));

  constructor(ctx: ArchiveContext, init: CommitterInit = {}) {
    this.#ctx = ctx;
    this.#maxDelay = init.maxDelayMs ?? 50;
    this.#maxBatch = Math.max(1, init.maxBatch ?? 4096);
    this.#sliceMs = init.sliceMs ?? 8;
    this.#minSliceObjects = Math.max(1, init.minSliceObjects ?? 16);
    this.#onHurry = init.onHurry;
    this.#insertChunk = ctx.db.prepare('INSERT INTO object_chunks (seq, idx, chunk) VALUES (?, ?, ?)');
    this.#insertChunks = ctx.db.prepare(
      `${MULTI_ROW_INSERT} object_chunks (seq, idx, chunk) VALUES ${Array.from({ length: CHUNK_ROWS }, () => '(?, ?, ?)').join(', ')}`,
    );
    this.#upsertCache = ctx.db.prepare(
      `INSERT INTO file_cache (key, size, mtime_ns, ino, mode, seq) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT(key) DO UPDATE SET size = excluded.size, mtime_ns = excluded.mtime_ns, ino = excluded.ino,
         mode = excluded.mode, seq = excluded.seq`,
    );
  }

  submit(spec: BlockSpec, chunkIds: readonly Buffer[], fileCache?: FileCacheEntry): Promise<WrittenBlock> {
    return new Promise((committed, failed) => this.submitTo(spec, chunkIds, fileCache, { committed, failed }));
  }

  /** As {@link submit}, told through `sink` instead of a promise (a refusal may come before this returns). */
  submitTo(
    spec: BlockSpec,
    chunkIds: readonly Buffer[],
    fileCache: FileCacheEntry | undefined,
    sink: CommitSink,
  ): void {
    if (this.#failed) {
      sink.failed(new Error(`an earlier commit failed (${String(this.#failed)}); reopen the archive`));
      return;
    }
    this.#queue.push({ spec, chunkIds, fileCache, sink });
    this.#start();
  }

  /** Commits whatever waits or is open, and resolves once that (and any commit under way) is done. */
  async flush(): Promise<void> {
    this.#flushing++;
    try {
      while (this.#running || this.#queue.length > 0 || this.#open || this.#committed.length > 0) {
        this.#start();
        this.#wake?.();
        await this.#running;
      }
    } finally {
      this.#flushing--;
    }
  }

  /**
   * Runs `work` with no commit delay: while it runs, whatever waits is committed as soon as it is
   * appended, as during a flush. For the end of a store, when nothing else is coming to share a
   * commit: its last files and its snapshot block waited out the whole delay (50 ms each) before.
   */
  async hurry<T>(work: Promise<T>): Promise<T> {
    this.#flushing++;
    this.#wake?.();
    this.#onHurry?.();
    try {
      return await work;
    } finally {
      this.#flushing--;
    }
  }

  /** Whether a transaction is open (its objects appended, not yet committed). */
  get open(): boolean {
    return this.#open !== undefined;
  }

  /**
   * Commits the open transaction now, synchronously: the pack's fdatasync blocks the event loop,
   * so this is for the rare caller that must see committed state at once (signing a checkpoint).
   */
  commitNow(): void {
    if (!this.#open) return;
    this.#ctx.chunks.sync();
    this.#commitOpen();
  }

  #start(): void {
    if (this.#running) {
      this.#wake?.();
      return;
    }
    if (this.#failed || (this.#queue.length === 0 && !this.#open && this.#committed.length === 0)) return;
    this.#running = this.#run().finally(() => {
      this.#running = undefined;
      // Objects submitted after a failure was noticed are rejected by submit(); any left are not.
      if (!this.#failed && (this.#queue.length > 0 || this.#open || this.#committed.length > 0)) this.#start();
    });
  }

  async #run(): Promise<void> {
    while (!this.#failed) {
      if (this.#committed.length > 0) {
        // Committed objects are told a few at a time, a turn apart: each resolution runs its
        // caller's continuation (a store's result, the next file's bookkeeping), all in one turn.
        for (const p of this.#committed.splice(0, RESOLVE_PER_TURN)) p.sink.committed(p.written!);
        await nextTurn();
        continue;
      }
      if (this.#queue.length > 0) this.#slice();
      const open = this.#open;
      if (open) {
        const age = performance.now() - this.#openedAt;
        const drained = this.#queue.length === 0 && this.#flushing > 0;
        if (drained || open.length >= this.#maxBatch || age >= this.#maxDelay) {
          await this.#commit(open);
          continue;
        }
      }
      if (this.#queue.length > 0) {
        await nextTurn();
        continue;
      }
      if (!this.#open) return;
      // Nothing waits: sleep until the open transaction is due, or something arrives.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(wake, Math.max(0, this.#openedAt + this.#maxDelay - performance.now()));
        function wake(): void {
          clearTimeout(timer);
          resolve();
        }
        this.#wake = wake;
      });
      this.#wake = undefined;
    }
  }

  /** Appends queued objects to the open transaction (opening one) for up to a slice's time. */
  #slice(): void {
    const ctx = this.#ctx;
    const db = ctx.db;
    if (!this.#open) {
      db.exec('BEGIN IMMEDIATE');
      this.#open = [];
      this.#openedAt = performance.now();
    }
    const open = this.#open;
    const start = performance.now();
    const taken: Pending[] = [];
    // No savepoint per slice: with one open, every page a slice first touches is copied to the
    // statement journal, and each multi-row statement's release walked that journal (half a second
    // of the corpus store). A slice can fail only in SQLite (disk full, I/O), which may roll the
    // whole transaction back by itself anyway; see #fail.
    try {
      // Every chunk put so far: its bytes are written, and the commit syncs them first.
      ctx.chunks.persist();
      // Edge rows are held back and written many to a statement (BlockWriter.batch); nothing in
      // the slice reads edges.
      requireWriter(ctx).batch(() => {
        do {
          const p = this.#queue.shift()!;
          try {
            p.written = this.#append(p);
          } catch (e) {
            // A malformed header is refused before anything is written: that object alone fails.
            if (!(e instanceof HeaderFormatError)) {
              taken.push(p);
              throw e;
            }
            p.sink.failed(e);
            continue;
          }
          taken.push(p);
        } while (
          this.#queue.length > 0 &&
          open.length + taken.length < this.#maxBatch &&
          (taken.length < this.#minSliceObjects || performance.now() - start < this.#sliceMs)
        );
      });
    } catch (e) {
      this.#fail(e, taken);
      return;
    }
    open.push(...taken);
  }

  /** Makes the open transaction's chunks durable, then commits it. */
  async #commit(open: Pending[]): Promise<void> {
    try {
      // Every chunk its rows name was put before this sync began (no slice runs meanwhile).
      await this.#ctx.chunks.syncAsync();
      if (this.#open !== open) return; // commitNow() committed it meanwhile
      this.#commitOpen();
    } catch (e) {
      if (this.#open === open) this.#fail(e, []);
    }
  }

  #commitOpen(): void {
    const open = this.#open!;
    try {
      this.#ctx.db.exec('COMMIT');
    } catch (e) {
      this.#fail(e, []);
      return;
    }
    this.#open = undefined;
    this.#ctx.chunks.settle();
    // Tell ingest workers their read snapshot is stale (see IngestPoolInit.commits).
    Atomics.add(this.commits, 0, 1);
    this.#committed.push(...open);
    this.#start(); // the runner resolves them (commitNow() may have committed while it slept)
  }

  /**
   * A slice or a commit failed: the transaction is rolled back and every object not committed is
   * rejected (their stores report the error; nothing they did is kept). The committer then refuses
   * more, since in-memory state may no longer match the database. (An object with a malformed
   * header is refused alone: see #slice.)
   */
  #fail(e: unknown, failed: readonly Pending[]): void {
    const ctx = this.#ctx;
    this.#failed = e instanceof Error ? e.message : e;
    const open = this.#open ?? [];
    this.#open = undefined;
    if (ctx.db.inTransaction) ctx.db.exec('ROLLBACK');
    requireWriter(ctx).reload();
    ctx.chunks.settle();
    for (const p of [...open, ...failed, ...this.#queue.splice(0)]) p.sink.failed(e);
  }

  /**
   * The object's chunk list, CHUNK_ROWS rows per statement: the bench's 2 GiB file's 4,600 rows one
   * at a time took 27 ms of the one task that appends it.
   */
  #insertChunkList(seq: number, chunks: readonly ChunkInfo[]): void {
    const args: number[] = [];
    let i = 0;
    for (; i + CHUNK_ROWS <= chunks.length; i += CHUNK_ROWS) {
      args.length = 0;
      for (let k = i; k < i + CHUNK_ROWS; k++) args.push(seq, k, chunks[k]!.rid);
      this.#insertChunks.run(...args);
    }
    for (; i < chunks.length; i++) this.#insertChunk.run(seq, i, chunks[i]!.rid);
  }

  /** Inside the transaction: the object's block, its chunk list and its fast-path record. */
  #append(p: Pending): WrittenBlock {
    const ctx = this.#ctx;
    // A loop, not map(): map's array comes out with another elements kind once the optimising
    // compiler inlines it, and what reads the array is deoptimised for the "wrong map" (trace-deopt).
    const chunks: ChunkInfo[] = [];
    for (const id of p.chunkIds) {
      const info = ctx.chunks.lookup(id);
      if (!info) throw new Error(`chunk ${id.toString('hex')} vanished before commit`);
      chunks.push(info);
    }
    // An object with a chunk nothing referenced before cannot be identical to a stored one.
    const w = requireWriter(ctx).append(p.spec, ctx.chunks.claim(chunks));
    if (!w.reused) this.#insertChunkList(w.seq, chunks);
    const f = p.fileCache;
    if (f) this.#upsertCache.run(f.key, f.size, f.mtimeNs, f.ino, f.mode, w.seq);
    return w;
  }
}
