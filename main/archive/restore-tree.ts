import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { inSnapshot } from '../db/database.js';
import { nextTurn } from '../util/next-turn.js';
import type { ArchiveContext } from './context.js';
import * as errors from './errors.js';
import { writeTreeFile, writeTreeFileSync, type TreeFile } from './read-ops.js';
import type { SnapshotEntry } from './snapshot.js';

/**
 * A tree restore's files (see restore.ts), written by the calling thread and by restore workers side
 * by side.
 *
 * Restoring is one thread's work otherwise, and on the bench machine half of it is the kernel's:
 * creating 34,000 files (inode allocation, which on an ext4 without a journal also walks past
 * recently deleted inodes), copying their bytes, renaming them into place. The other half is ours:
 * reading, decompressing and re-hashing every chunk. Each worker opens the archive read-only and
 * takes batches of files off the same queue the calling thread works through, so both cores work
 * and neither waits for the other; files stay whole (each is written to a temporary sibling and
 * renamed once verified, on whichever thread).
 *
 * On the first failure no more batches go out, the batches in flight finish (a worker is never
 * stopped in the middle of a file, so no temporary file is left behind), and the failure is thrown
 * as the archive's own error (same name and code).
 */

/** Restore workers: the calling thread and this many more. Default below. */
export interface TreeRestoreOptions {
  /** 0: the calling thread restores alone. Default: one per further core, at most 3. */
  readonly workers?: number;
  /**
   * The calling thread takes files only once every worker has opened the archive (or failed to),
   * so the first batches go to the workers. For tests; by default it starts at once.
   */
  readonly waitForWorkers?: boolean;
}

/**
 * Workers start once the calling thread has restored for WORKERS_AFTER_MS and at least
 * WORKER_MIN_FILES files are left (a worker takes 100–300 ms to start and open the archive; trees
 * of 400 and 2,000 small files took longer with one started at once than without).
 */
export const WORKER_MIN_FILES = 256;
const WORKERS_AFTER_MS = 200;
/** A batch (a worker's, or the calling thread's share at a time): at most this many files … */
const BATCH_FILES = 256;
/** … and about this many bytes (at least one file). */
const BATCH_BYTES = 8 << 20;
/**
 * Batches a worker holds, so it has the next while the calling thread answers the last. A worker
 * gets its first once it has opened the archive: until then the calling thread takes them, so a tree
 * it restores in less time than a worker takes to start does not wait for one.
 */
const BATCHES_PER_WORKER = 2;
/** Files up to this size are written in synchronous runs inside one read snapshot; larger ones stream. */
export const RUN_FILE_BYTES = 8 << 20;
/** The calling thread's synchronous run of files ends after this long, then its event loop runs. */
const RUN_MS = 10;

/**
 * Writes `files[i]`, then the small files after it while `more()` says so, all in one read snapshot
 * (the WAL read lock once, see inSnapshot); calls `done` for each. Returns the next index. The
 * calling thread's runs and a worker's batches both go through here.
 */
export function writeSmallRun(
  ctx: ArchiveContext,
  files: readonly TreeFile[],
  i: number,
  more: () => boolean,
  done: (f: TreeFile) => void,
): number {
  inSnapshot(ctx.db, () => {
    do {
      writeTreeFileSync(ctx, files[i]!);
      done(files[i++]!);
    } while (i < files.length && files[i]!.size <= RUN_FILE_BYTES && more());
  });
  return i;
}

export interface RestoreWorkerInit {
  readonly dir: string;
}

export type ToRestoreWorker = { readonly t: 'batch'; readonly id: number; readonly files: readonly TreeFile[] };

export type FromRestoreWorker =
  /** The worker has opened the archive: send it batches. */
  | { readonly t: 'ready' }
  /** It could not: it holds no files, and the other threads go on without it. */
  | { readonly t: 'unavailable'; readonly error: ErrorData }
  | { readonly t: 'done'; readonly id: number; readonly files: number; readonly bytes: number }
  | { readonly t: 'failed'; readonly id: number; readonly error: ErrorData };

export interface ErrorData {
  readonly name: string;
  readonly message: string;
  readonly code?: string;
}

export function errorData(e: unknown): ErrorData {
  const err: Error & { code?: unknown } = e instanceof Error ? e : new Error(String(e));
  return { name: err.name, message: err.message, ...(typeof err.code === 'string' ? { code: err.code } : {}) };
}

/** An error sent by a worker, as the archive's own class when it is one (the CLI matches names and codes). */
export function errorFromData(d: ErrorData): Error {
  const known = (errors as Record<string, unknown>)[d.name];
  if (typeof known === 'function' && known.prototype instanceof Error)
    return new (known as new (message: string) => Error)(d.message);
  const e = new Error(d.message) as Error & { code?: string };
  e.name = d.name;
  if (d.code !== undefined) e.code = d.code;
  return e;
}

/** Worker scripts must be compiled JavaScript; under vitest this module is .ts (see ingest-pool.ts). */
function workerUrl(moduleUrl: string = import.meta.url): URL {
  return moduleUrl.endsWith('.ts')
    ? new URL('../../dist/main/archive/restore-worker.js', moduleUrl)
    : new URL('./restore-worker.js', moduleUrl);
}

function defaultWorkers(): number {
  return Math.min(3, availableParallelism() - 1);
}

type FileEntry = SnapshotEntry & { type: 'file' };

/** What a tree restore wrote. */
export interface TreeRestoreResult {
  readonly files: number;
  readonly bytes: number;
  /** How many of the files workers wrote. */
  readonly byWorkers: number;
  /**
   * Workers that could not help (they could not open the archive, or failed to start), one line
   * each: the calling thread restored their share, so nothing is missing, but it took longer.
   */
  readonly warnings: readonly string[];
}

/**
 * Restores `files` (a snapshot's file entries); `place` checks where one goes and makes its
 * directory, on the calling thread, before any thread writes it.
 */
export async function restoreFiles(
  ctx: ArchiveContext,
  files: readonly FileEntry[],
  place: (e: FileEntry) => TreeFile,
  opts: TreeRestoreOptions = {},
): Promise<TreeRestoreResult> {
  const workers = files.length >= WORKER_MIN_FILES ? Math.max(0, opts.workers ?? defaultWorkers()) : 0;
  const run = new TreeRun(ctx, files, place);
  return run.run(workers, opts.waitForWorkers ?? false);
}

class TreeRun {
  readonly #ctx: ArchiveContext;
  readonly #files: readonly FileEntry[];
  readonly #place: (e: FileEntry) => TreeFile;
  /** The next file no thread has taken. */
  #next = 0;
  #written = { files: 0, bytes: 0, byWorkers: 0 };
  readonly #warnings: string[] = [];
  #failure: Error | undefined;
  /** Batches sent and not answered, by worker, once it is ready. */
  readonly #inFlight = new Map<Worker, Set<number>>();
  #batchIds = 0;
  #allAnswered: (() => void) | undefined;
  /** Workers still to start, and those started. */
  #wanted = 0;
  readonly #started: Worker[] = [];

  constructor(ctx: ArchiveContext, files: readonly FileEntry[], place: (e: FileEntry) => TreeFile) {
    this.#ctx = ctx;
    this.#files = files;
    this.#place = place;
  }

  async run(workers: number, waitForWorkers: boolean): Promise<TreeRestoreResult> {
    this.#wanted = workers;
    try {
      if (waitForWorkers) await Promise.all(this.#startWorkers());
      await this.#runHere();
      await this.#answered();
    } finally {
      await Promise.all(this.#started.map((w) => w.terminate()));
    }
    if (this.#failure) throw this.#failure;
    return { ...this.#written, warnings: [...this.#warnings] };
  }

  /** Starts the workers wanted; resolves, per worker, once it is ready or gone. */
  #startWorkers(): Promise<void>[] {
    const settled: Promise<void>[] = [];
    for (let i = 0; i < this.#wanted; i++) {
      const w = this.#startWorker();
      this.#started.push(w);
      settled.push(
        new Promise((resolve) => {
          w.on('message', (m: FromRestoreWorker) => {
            if (m.t === 'ready' || m.t === 'unavailable') resolve();
          });
          w.once('exit', () => resolve());
        }),
      );
    }
    this.#wanted = 0;
    return settled;
  }

  /** Takes a file off the queue: placed, or undefined when none is left or a thread failed. */
  #take(): TreeFile | undefined {
    if (this.#failure || this.#next >= this.#files.length) return undefined;
    return this.#place(this.#files[this.#next++]!);
  }

  #fail(e: unknown): void {
    this.#failure ??= e instanceof Error ? e : new Error(String(e));
  }

  #done(f: { size: number }): void {
    this.#written.files++;
    this.#written.bytes += f.size;
  }

  /**
   * The calling thread's share, a batch at a time like a worker's (consecutive files share group
   * frames: a thread that takes them together decompresses each frame once): synchronous runs of
   * small files inside one read snapshot, RUN_MS long at most, and large files streamed.
   */
  async #runHere(): Promise<void> {
    const ctx = this.#ctx;
    const began = performance.now();
    for (let batch = this.#batch(); batch.length > 0 && !this.#failure; batch = this.#batch()) {
      // Workers join a restore that has run a while and has much left: a smaller tree is done
      // before one would have started.
      if (
        this.#wanted > 0 &&
        performance.now() - began >= WORKERS_AFTER_MS &&
        this.#files.length - this.#next >= WORKER_MIN_FILES
      )
        this.#startWorkers();
      for (let i = 0; i < batch.length && !this.#failure;) {
        try {
          if (batch[i]!.size > RUN_FILE_BYTES) {
            await writeTreeFile(ctx, batch[i]!);
            this.#done(batch[i++]!);
          } else {
            const start = performance.now();
            i = writeSmallRun(
              ctx,
              batch,
              i,
              () => performance.now() - start < RUN_MS,
              (f) => this.#done(f),
            );
          }
        } catch (e) {
          this.#fail(e);
        }
        // Worker answers are read here, and their next batches sent.
        await nextTurn();
      }
    }
  }

  /** The next files off the queue, placed: up to BATCH_FILES and about BATCH_BYTES. */
  #batch(): TreeFile[] {
    const batch: TreeFile[] = [];
    let bytes = 0;
    while (batch.length < BATCH_FILES && bytes < BATCH_BYTES) {
      let f: TreeFile | undefined;
      try {
        f = this.#take();
      } catch (e) {
        this.#fail(e);
      }
      if (!f) break;
      batch.push(f);
      bytes += f.size;
    }
    return batch;
  }

  #startWorker(): Worker {
    const init: RestoreWorkerInit = { dir: this.#ctx.dir };
    const w = new Worker(workerUrl(), { workerData: init });
    w.on('message', (m: FromRestoreWorker) => {
      switch (m.t) {
        case 'ready':
          this.#inFlight.set(w, new Set());
          for (let k = 0; k < BATCHES_PER_WORKER; k++) this.#send(w);
          return;
        case 'unavailable':
          this.#warn(`a restore worker could not open the archive (${m.error.message})`);
          return;
        case 'done':
          this.#inFlight.get(w)?.delete(m.id);
          this.#written.files += m.files;
          this.#written.bytes += m.bytes;
          this.#written.byWorkers += m.files;
          this.#send(w);
          break;
        case 'failed':
          this.#inFlight.get(w)?.delete(m.id);
          this.#fail(errorFromData(m.error));
          break;
      }
      this.#checkAnswered();
    });
    const lost = (why: string): void => {
      if (this.#inFlight.get(w)?.size) this.#fail(new Error(`a restore worker ${why} with files in hand`));
      this.#inFlight.delete(w);
      this.#checkAnswered();
    };
    w.on('error', (e) => {
      if (!this.#inFlight.has(w)) this.#warn(`a restore worker failed to start (${e.message})`);
      lost(`failed (${e.message})`);
    });
    w.on('exit', () => lost('exited'));
    return w;
  }

  /** Records a worker that could not help, once per distinct reason. */
  #warn(why: string): void {
    const line = `${why}: the calling thread restored its share`;
    if (!this.#warnings.includes(line)) this.#warnings.push(line);
  }

  /** Sends `w` its next batch, if there is one. */
  #send(w: Worker): void {
    const held = this.#inFlight.get(w);
    if (!held) return;
    const batch = this.#batch();
    if (batch.length === 0) return;
    const id = ++this.#batchIds;
    held.add(id);
    w.postMessage({ t: 'batch', id, files: batch } satisfies ToRestoreWorker);
  }

  #pending(): number {
    let n = 0;
    for (const held of this.#inFlight.values()) n += held.size;
    return n;
  }

  #checkAnswered(): void {
    if (this.#pending() === 0) this.#allAnswered?.();
  }

  /** Resolves once every batch sent is answered (or its worker is gone). */
  #answered(): Promise<void> {
    if (this.#pending() === 0) return Promise.resolve();
    return new Promise((resolve) => (this.#allAnswered = resolve));
  }
}
