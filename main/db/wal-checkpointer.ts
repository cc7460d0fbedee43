import { Worker } from 'node:worker_threads';
import type { Db } from './database.js';

/**
 * WAL size after which the writer checkpoints by itself, should the worker fall behind: 1 GiB. The
 * WAL of a long ingest grows past any smaller limit even with the worker keeping up (the ingest
 * workers' reads keep it from starting over), and from there the writer checkpointed after every
 * commit, fsyncs included, on the main thread (event-loop maximum of the corpus store: 87–166 ms
 * in four runs at 64 MiB, 44 ms at 1 GiB, on the same loaded machine).
 *
 * Under a steady stream of commits the WAL never starts over without this: SQLite restarts it at
 * the first write of a transaction begun with every frame copied, and the worker's checkpoints
 * always end with the writer's newest commits not yet copied. The writer's own checkpoint here,
 * right after a commit, copies everything, and the next transaction starts the WAL over. It was
 * set as 262,144 pages, meant as 4 KiB ones: with the 32 KiB pages of archives since PAGE_SIZE,
 * 8 GiB, and a million block appends grew the WAL to 2.7 GB (1.1 GB now). Appends at a million
 * in four alternating pairs against the old limit: -7, +2, +9 and +10 % (docs/BENCHMARKS.md, run AM).
 */
const FALLBACK_BYTES = 1 << 30;
/** SQLite's own default, restored if the worker dies. */
const DEFAULT_PAGES = 1_000;
/** How long the WAL must stay unchanged before the worker truncates it. */
const TRUNCATE_AFTER_IDLE_MS = 2_000;

/** What the worker is started with (wal-checkpoint-worker.ts). */
export interface WalWorkerInit {
  readonly file: string;
  readonly intervalMs: number;
  /** While the writer keeps committing, checkpoint no more often than this. */
  readonly busyIntervalMs: number;
  /** Truncate the WAL to zero bytes once it has been fully copied and unchanged this long. */
  readonly truncateAfterIdleMs: number;
}

/** Worker scripts must be compiled JavaScript; under vitest this module is .ts (see ingest-pool.ts). */
function workerUrl(moduleUrl: string = import.meta.url): URL {
  return moduleUrl.endsWith('.ts')
    ? new URL('../../dist/main/db/wal-checkpoint-worker.js', moduleUrl)
    : new URL('./wal-checkpoint-worker.js', moduleUrl);
}

/**
 * Checkpoints the writer's WAL on a worker thread. Left to SQLite, the commit that pushes the WAL
 * past 1,000 pages copies them into the database file and fsyncs it, on the thread that committed:
 * the main thread (a third of the time of a million block appends, in bench/dag-million.ts). Here a
 * worker with its own connection runs PASSIVE checkpoints every `intervalMs` — but no more often than
 * every `busyIntervalMs` while the writer is still committing — and the writer only
 * checkpoints itself if the WAL outgrows 1 GiB. If the worker dies, SQLite's default comes back.
 * The worker also gives a grown WAL's disk space back (a TRUNCATE checkpoint), but only when the
 * writer has been idle: that checkpoint holds the write lock while the file shrinks.
 */
export class WalCheckpointer {
  readonly #worker: Worker;
  #stopped = false;
  readonly #exited: Promise<void>;

  private constructor(db: Db, file: string, intervalMs: number, busyIntervalMs: number) {
    // In pages of the database's own size.
    const pageSize = db.pragma('page_size', { simple: true }) as number;
    db.pragma(`wal_autocheckpoint = ${Math.ceil(FALLBACK_BYTES / pageSize)}`);
    // The writer never trims the WAL itself: with a size limit, the first commit after the WAL
    // restarted truncated it there, on the main thread (250 MB → 64 MB after the corpus ingest: a
    // 210 ms commit). The worker truncates it once the writer has left it alone for a while.
    db.pragma('journal_size_limit = -1');
    const init: WalWorkerInit = { file, intervalMs, busyIntervalMs, truncateAfterIdleMs: TRUNCATE_AFTER_IDLE_MS };
    this.#worker = new Worker(workerUrl(), { workerData: init });
    this.#worker.unref();
    this.#exited = new Promise((resolve) => {
      this.#worker.once('exit', () => {
        if (!this.#stopped && db.open) db.pragma(`wal_autocheckpoint = ${DEFAULT_PAGES}`);
        resolve();
      });
    });
    this.#worker.on('error', () => {
      // Reported by the exit handler's fallback; a checkpoint failure never fails a write.
    });
  }

  /**
   * `busyIntervalMs` (default 2 s): a checkpoint copies every page dirtied since the previous one,
   * and a bulk store dirties most of the database within a quarter second (random keys in four
   * indexes). `pakit store` of the 500 MB corpus (a 17 MB database) under `strace -f -c`, with a
   * checkpoint at every tick: 211,873 pwrites, 77,088 preads, 226 fsyncs; at most one every 2 s
   * while the writer commits: 146,373, 33,784 and 28.
   */
  static start(db: Db, file: string, intervalMs = 250, busyIntervalMs = 2_000): WalCheckpointer {
    return new WalCheckpointer(db, file, intervalMs, busyIntervalMs);
  }

  /**
   * Asks for a checkpoint now, whatever the busy interval: the writer expects to be done soon (the
   * end of a store), and every frame copied meanwhile, on the worker's core, is one that closing
   * the database — which copies whatever is left, on the writer's thread — no longer has to.
   */
  soon(): void {
    if (!this.#stopped) this.#worker.postMessage('now');
  }

  /**
   * Stops the worker and waits until its connection is closed. Call it once the writer has stopped
   * writing: the worker first copies the rest of the WAL and truncates it (the writer's close then
   * finds it empty), so whatever the caller does meanwhile overlaps that work.
   */
  async close(): Promise<void> {
    if (!this.#stopped) {
      this.#stopped = true;
      // Unref'd so an archive left open never holds the process; referenced while it shuts down,
      // or the process could exit with this promise pending.
      this.#worker.ref();
      this.#worker.postMessage('stop');
    }
    await this.#exited;
  }
}
