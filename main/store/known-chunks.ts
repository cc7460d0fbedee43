import Database from 'better-sqlite3';
import { tuneConnection } from '../db/connection.js';
import type { IngestWorkerData } from './ingest-protocol.js';
import { CHUNK_BY_ID } from './types.js';

/**
 * An ingest worker's question to the archive: is this chunk stored already (so its compression can
 * be skipped)? Lookups share one read snapshot until the archive's commit counter moves and the
 * snapshot is snapshotMaxAgeMs old, instead of taking SQLite's locks per query — those lock
 * syscalls were a large part of ingest's system time. The snapshot is released when the worker goes
 * idle, so it never holds back WAL checkpoints.
 */
export class KnownChunks {
  readonly #init: IngestWorkerData;
  #db: Database.Database | undefined;
  #lookup: ((id: Buffer) => boolean) | undefined;
  #snapshotOf = -1;
  #snapshotAt = 0;
  #releaseTimer: NodeJS.Timeout | undefined;
  #lastLookup = 0;

  constructor(init: IngestWorkerData) {
    this.#init = init;
  }

  /**
   * The lookup for one input; undefined when the worker has no archive to ask. The same function
   * every time: a new closure per input, stored in the pipeline's options, made V8 build new
   * object shapes per file and turned the pipeline's property loads megamorphic (see
   * ingest-worker.ts, run).
   */
  lookup(): ((id: Buffer) => boolean) | undefined {
    if (this.#init.dbFile === undefined) return undefined;
    return (this.#lookup ??= this.#makeLookup(this.#init.dbFile));
  }

  #makeLookup(dbFile: string): (id: Buffer) => boolean {
    const init = this.#init;
    // Not openDb (database.ts): its module graph (the migrations) would load in every worker, and
    // delay the first file (~10 ms of a ~100 ms start). The writer has migrated the file.
    const db = new Database(dbFile, { readonly: true, fileMustExist: true });
    tuneConnection(db);
    this.#db = db;
    const statement = db.prepare<[Buffer, Buffer], number>(`SELECT 1 FROM chunks WHERE ${CHUNK_BY_ID}`).pluck();
    const commits = init.commits;
    if (!commits) return (id) => statement.get(id, id) !== undefined;
    const maxAge = init.snapshotMaxAgeMs;
    return (id) => {
      const seen = Atomics.load(commits, 0);
      const now = performance.now();
      if (!db.inTransaction || (seen !== this.#snapshotOf && now - this.#snapshotAt >= maxAge)) {
        if (db.inTransaction) db.exec('COMMIT');
        db.exec('BEGIN');
        this.#snapshotOf = seen;
        this.#snapshotAt = now;
      }
      this.#lastLookup = now;
      this.#releaseTimer ??= setTimeout(this.#release, init.snapshotIdleMs).unref();
      return statement.get(id, id) !== undefined;
    };
  }

  /**
   * Ends the read snapshot once no lookup came for snapshotIdleMs. One timer per snapshot, moved on
   * when it fires early, not one per lookup: re-arming a timer per chunk cost more than the lookup.
   */
  readonly #release = (): void => {
    const idle = performance.now() - this.#lastLookup;
    if (idle < this.#init.snapshotIdleMs) {
      this.#releaseTimer = setTimeout(this.#release, this.#init.snapshotIdleMs - idle).unref();
      return;
    }
    this.#releaseTimer = undefined;
    if (this.#db?.inTransaction) this.#db.exec('COMMIT');
  };
}
