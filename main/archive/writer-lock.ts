import Database from 'better-sqlite3';
import { join } from 'node:path';

export class ArchiveBusyError extends Error {
  override readonly name = 'ArchiveBusyError';
  readonly code = 'ERR_ARCHIVE_BUSY';
}

/**
 * One writer per archive. The lock is an exclusive SQLite lock on `<data>/writer.lock`, held for
 * the writer's lifetime: the OS drops it when the process dies (even by kill -9), so a crash never
 * leaves a stale lock behind, unlike a pid file. Readers never take it.
 */
export class WriterLock {
  readonly #db: Database.Database;

  private constructor(db: Database.Database) {
    this.#db = db;
  }

  static acquire(dataDir: string): WriterLock {
    const file = join(dataDir, 'writer.lock');
    const db = new Database(file, { timeout: 0 });
    try {
      db.pragma('locking_mode = EXCLUSIVE');
      db.exec('BEGIN EXCLUSIVE');
    } catch (e) {
      db.close();
      if ((e as { code?: string }).code === 'SQLITE_BUSY')
        throw new ArchiveBusyError(
          `the archive in ${dataDir} is being written by another process (pakit sync or store)`,
        );
      throw e;
    }
    return new WriterLock(db);
  }

  release(): void {
    if (this.#db.open) {
      this.#db.exec('ROLLBACK');
      this.#db.close();
    }
  }
}
