import type Database from 'better-sqlite3';
import { openDb, type Db } from '../db/database.js';

/**
 * One read snapshot for the hash lookups that come together, on a read-only connection of its
 * own. A lookup on its own takes and drops SQLite's WAL read lock (two `fcntl` calls and an `fstat`,
 * ~5 µs of a ~9 µs lookup here); lookups that share a snapshot take it once, ~4 µs each.
 *
 * The snapshot must never hide what the writer connection committed, nor what it has written and
 * not committed yet (only the writer sees that, and its own write paths look blocks up). So:
 * - while the writer is in a transaction, {@link enter} says no and the caller reads through the
 *   writer, as without this class;
 * - the snapshot is kept only while the writer's change count (`total_changes()`, read without any
 *   lock) stays what it was when the snapshot began: any write committed since, in this process,
 *   starts a new one.
 *
 * How long it may last depends on who else can commit:
 * - in a process that holds the archive's writer lock (`soleWriter`), nobody else can, so the
 *   snapshot lasts across tasks until the writer changes something, until IDLE_END_MS pass without
 *   a lookup, or MAX_AGE_MS after it began (an open snapshot keeps a checkpoint from emptying the
 *   WAL, so it must not outlive its use);
 * - otherwise (a reader beside another process's writer) it ends with the task (a microtask), so a
 *   commit by the other process is seen by the next task at the latest, as a caller's own
 *   `inSnapshot` would see it.
 */
export const IDLE_END_MS = 20;
export const MAX_AGE_MS = 1_000;

export interface TaskSnapshotOptions {
  /** This process holds the archive's writer lock: no other process commits (see above). */
  readonly soleWriter?: boolean;
  /** A sole writer's snapshot ends once this long passes without a lookup; default IDLE_END_MS. */
  readonly idleEndMs?: number;
  /** … and this long after it began, at the latest; default MAX_AGE_MS. */
  readonly maxAgeMs?: number;
}

export class TaskSnapshot {
  readonly #writer: Db;
  readonly #file: string;
  #reader: Db | undefined;
  #begin: Database.Statement | undefined;
  #commit: Database.Statement | undefined;
  readonly #changes: Database.Statement;
  /** The writer's change count when the open snapshot began. */
  #changesAt = -1;
  /** Counts snapshots begun; a task's end closes only the one it was queued for. */
  #generation = 0;
  #open = false;
  #closed = false;
  readonly #soleWriter: boolean;
  readonly #idleEndMs: number;
  readonly #maxAgeMs: number;
  /** A sole writer's snapshot: when it began, whether a lookup used it since the last check, and the check. */
  #begunAt = 0;
  #used = false;
  #timer: NodeJS.Timeout | undefined;

  constructor(writer: Db, file: string, opts: TaskSnapshotOptions = {}) {
    this.#writer = writer;
    this.#file = file;
    this.#soleWriter = opts.soleWriter ?? false;
    this.#idleEndMs = opts.idleEndMs ?? IDLE_END_MS;
    this.#maxAgeMs = opts.maxAgeMs ?? MAX_AGE_MS;
    this.#changes = writer.prepare('SELECT total_changes()').pluck();
  }

  /** Whether a snapshot is open now (for tests). */
  get open(): boolean {
    return this.#open;
  }

  /** How many snapshots were begun (for tests). */
  get begun(): number {
    return this.#generation;
  }

  /**
   * Begins a snapshot, or keeps the open one; returns the reader to run lookups on, or
   * undefined when the caller must read through the writer (it is in a transaction, or this was
   * closed).
   */
  enter(): Db | undefined {
    if (this.#closed || this.#writer.inTransaction) {
      this.#end();
      return undefined;
    }
    const changes = this.#changes.get() as number;
    if (this.#open && changes === this.#changesAt) {
      this.#used = true;
      return this.#reader;
    }
    this.#end();
    const reader = (this.#reader ??= this.#openReader());
    this.#begin!.run();
    this.#open = true;
    this.#changesAt = changes;
    const generation = ++this.#generation;
    if (this.#soleWriter) {
      this.#begunAt = performance.now();
      this.#used = true; // this lookup: the snapshot lasts at least until the check after next
      this.#timer ??= setTimeout(this.#check, this.#idleEndMs).unref();
    } else {
      queueMicrotask(() => {
        if (generation === this.#generation) this.#end();
      });
    }
    return reader;
  }

  /** A sole writer's timer: ends the snapshot once idle or old, else looks again later. */
  #check = (): void => {
    this.#timer = undefined;
    if (!this.#open) return;
    if (!this.#used || performance.now() - this.#begunAt >= this.#maxAgeMs) {
      this.#end();
      return;
    }
    this.#used = false;
    this.#timer = setTimeout(this.#check, this.#idleEndMs).unref();
  };

  /** Ends any snapshot and closes the reader connection; later lookups go through the writer. */
  close(): void {
    this.#end();
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#closed = true;
    this.#reader?.close();
    this.#reader = undefined;
  }

  #openReader(): Db {
    const reader = openDb(this.#file, { readonly: true });
    this.#begin = reader.prepare('BEGIN');
    this.#commit = reader.prepare('COMMIT');
    return reader;
  }

  #end(): void {
    if (!this.#open) return;
    this.#open = false;
    if (this.#reader?.inTransaction) this.#commit!.run();
  }
}
