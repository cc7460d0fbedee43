import type Database from 'better-sqlite3';
import { openDb, type Db } from '../db/database.js';

/**
 * One read snapshot for all the hash lookups of the current task, on a read-only connection of its
 * own. A lookup on its own takes and drops SQLite's WAL read lock (two `fcntl` calls and an `fstat`,
 * ~5 µs of a ~9 µs lookup here); lookups that come together — a page of blocks and their parents, a
 * peer's batch of hashes, a loop — then share one lock, ~4 µs each.
 *
 * The snapshot must never hide what the writer connection committed, nor what it has written and
 * not committed yet (only the writer sees that, and its own write paths look blocks up). So:
 * - while the writer is in a transaction, {@link enter} says no and the caller reads through the
 *   writer, as without this class;
 * - the snapshot is kept only while the writer's change count (`total_changes()`, read without any
 *   lock) stays what it was when the snapshot began: any write committed since, in this process,
 *   starts a new one;
 * - it ends with the task (a microtask), so a commit by another process is seen by the next task at
 *   the latest, as a caller's own `inSnapshot` would see it.
 */
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

  constructor(writer: Db, file: string) {
    this.#writer = writer;
    this.#file = file;
    this.#changes = writer.prepare('SELECT total_changes()').pluck();
  }

  /** Whether a snapshot is open now (for tests). */
  get open(): boolean {
    return this.#open;
  }

  /**
   * Opens the task's snapshot, or keeps the open one; returns the reader to run lookups on, or
   * undefined when the caller must read through the writer (it is in a transaction, or this was
   * closed).
   */
  enter(): Db | undefined {
    if (this.#closed || this.#writer.inTransaction) {
      this.#end();
      return undefined;
    }
    const changes = this.#changes.get() as number;
    if (this.#open && changes === this.#changesAt) return this.#reader;
    this.#end();
    const reader = (this.#reader ??= this.#openReader());
    this.#begin!.run();
    this.#open = true;
    this.#changesAt = changes;
    const generation = ++this.#generation;
    queueMicrotask(() => {
      if (generation === this.#generation) this.#end();
    });
    return reader;
  }

  /** Ends any snapshot and closes the reader connection; later lookups go through the writer. */
  close(): void {
    this.#end();
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
