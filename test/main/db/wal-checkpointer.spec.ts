import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDb } from '../../../main/db/database.js';
import { WalCheckpointer } from '../../../main/db/wal-checkpointer.js';
import { tempDir } from '../../helpers/tmp.js';

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return cond();
}

/** `pages` 4 KiB rows committed in a new database whose checkpointer ticks an hour apart: none copied yet. */
function committedUncopied(pages: number): { file: string; db: ReturnType<typeof openDb>; cp: WalCheckpointer } {
  const file = join(tempDir(), 'a.db');
  const db = openDb(file);
  db.exec('CREATE TABLE t (b BLOB NOT NULL) STRICT');
  const cp = WalCheckpointer.start(db, file, 3_600_000);
  const insert = db.prepare('INSERT INTO t (b) VALUES (?)');
  db.transaction(() => {
    for (let i = 0; i < pages; i++) insert.run(randomBytes(4096));
  })();
  return { file, db, cp };
}

describe('WalCheckpointer', () => {
  it('copies committed WAL frames into the database file from its worker, not the writer', async () => {
    const file = join(tempDir(), 'a.db');
    const db = openDb(file);
    db.exec('CREATE TABLE t (b BLOB NOT NULL) STRICT');
    const cp = WalCheckpointer.start(db, file, 50);
    try {
      // The writer leaves checkpoints to the worker until the WAL passes 1 GiB: 32,768 of its 32 KiB pages.
      expect(db.pragma('page_size', { simple: true })).toBe(32_768);
      expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(32_768);
      const before = statSync(file).size;
      const insert = db.prepare('INSERT INTO t (b) VALUES (?)');
      db.transaction(() => {
        for (let i = 0; i < 2_000; i++) insert.run(randomBytes(4096));
      })();
      // 8 MB committed: it sits in the WAL (2,000+ pages, past SQLite's default of 1,000) until the
      // worker copies it over; the writer has not touched the database file itself.
      expect(statSync(`${file}-wal`).size).toBeGreaterThan(8e6);
      expect(await until(() => statSync(file).size > before + 8e6, 10_000)).toBe(true);
      expect(db.prepare('SELECT count(*) FROM t').pluck().get()).toBe(2_000);
    } finally {
      await cp.close();
    }
    db.close();
    // The last connection closed cleanly: SQLite checkpointed and removed the WAL.
    expect(existsSync(`${file}-wal`)).toBe(false);
  });

  it('sets the writer’s own checkpoint at 1 GiB of WAL in the database’s page size, 4 KiB in an older archive', async () => {
    const file = join(tempDir(), 'old.db');
    const made = new Database(file);
    made.pragma('page_size = 4096');
    made.exec('CREATE TABLE t (b BLOB NOT NULL) STRICT');
    made.close();
    const db = openDb(file);
    const cp = WalCheckpointer.start(db, file, 3_600_000);
    try {
      expect(db.pragma('page_size', { simple: true })).toBe(4096);
      expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(262_144);
    } finally {
      await cp.close();
      db.close();
    }
  });

  it('empties the WAL from its worker as it stops, so closing the writer has nothing left to copy or free', async () => {
    const { file, db, cp } = committedUncopied(2_000);
    expect(statSync(`${file}-wal`).size).toBeGreaterThan(8e6);
    await cp.close();
    // The writer is still open, and everything is in the database file already.
    expect(statSync(`${file}-wal`).size).toBe(0);
    expect(statSync(file).size).toBeGreaterThan(8e6);
    expect(db.prepare('SELECT count(*) FROM t').pluck().get()).toBe(2_000);
    db.close();
    const again = openDb(file);
    expect(again.prepare('SELECT count(*) FROM t').pluck().get()).toBe(2_000);
    again.close();
  });

  it('leaves the WAL to the writer when a reader still holds it as the worker stops', async () => {
    const { file, db, cp } = committedUncopied(500);
    // Another connection in a read transaction: the worker cannot restart the WAL under it.
    const reader = openDb(file);
    reader.exec('BEGIN');
    expect(reader.prepare('SELECT count(*) FROM t').pluck().get()).toBe(500);
    const started = Date.now();
    await cp.close();
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(statSync(`${file}-wal`).size).toBeGreaterThan(2e6);
    reader.exec('COMMIT');
    reader.close();
    db.close();
    expect(existsSync(`${file}-wal`)).toBe(false);
  });

  it('copies at most once per busy interval while the writer keeps committing, then at once when it stops', async () => {
    const file = join(tempDir(), 'a.db');
    const db = openDb(file);
    db.exec('CREATE TABLE t (b BLOB NOT NULL) STRICT');
    // Ticks every 100 ms; while commits keep coming, a checkpoint at most every 1.5 s. (With ticks
    // every 20 ms, a loaded machine that held this loop back 20 ms showed a tick a WAL at rest.)
    const cp = WalCheckpointer.start(db, file, 100, 1_500);
    try {
      const insert = db.prepare('INSERT INTO t (b) VALUES (?)');
      // Each checkpoint grows the database file: count how often it grew during 1.2 s of commits
      // every 10 ms (every tick sees a moved WAL). Ticking alone, it would grow about 12 times. A
      // copy writes page after page, so a stat during one may see it part-way: growth seen within
      // 50 ms of the last counts as the same copy (ticks are 100 ms apart).
      let size = statSync(file).size;
      let grewAt = -Infinity;
      let copies = 0;
      const end = Date.now() + 1_200;
      // A gap between two commits longer than a tick (this loop held back by a loaded machine) lets
      // the worker see the WAL at rest, and copy: that copy is allowed, and counted here.
      let stalls = 0;
      let last = Date.now();
      while (Date.now() < end) {
        db.transaction(() => {
          for (let i = 0; i < 8; i++) insert.run(randomBytes(4096));
        })();
        const now = Date.now();
        if (now - last >= 90) stalls++;
        last = now;
        const current = statSync(file).size;
        if (current !== size) {
          if (now - grewAt > 50) copies++;
          grewAt = now;
          size = current;
        }
        await new Promise((r) => setTimeout(r, 10));
      }
      // At most one checkpoint in the window (the first tick may find the interval already passed),
      // plus one per stall.
      expect(copies).toBeLessThanOrEqual(1 + stalls);
      const n = db.prepare('SELECT count(*) FROM t').pluck().get() as number;
      expect(n).toBeGreaterThan(100);
      // The writer stopped: the next ticks see the WAL at rest and copy everything over, until the
      // file holds every page of the database as the writer sees it.
      const pages = db.pragma('page_count', { simple: true }) as number;
      const expected = pages * (db.pragma('page_size', { simple: true }) as number);
      expect(statSync(file).size).toBeLessThan(expected);
      expect(await until(() => statSync(file).size >= expected, 5_000)).toBe(true);
    } finally {
      await cp.close();
    }
    db.close();
  });

  it('soon() copies at once, while the writer keeps committing and the busy interval would hold it back', async () => {
    const file = join(tempDir(), 'a.db');
    const db = openDb(file);
    db.exec('CREATE TABLE t (b BLOB NOT NULL) STRICT');
    // Ticks every 20 ms; while commits keep coming, no checkpoint for ten minutes (after the first).
    const cp = WalCheckpointer.start(db, file, 20, 600_000);
    const insert = db.prepare('INSERT INTO t (b) VALUES (?)');
    const commitFor = async (ms: number): Promise<void> => {
      const end = Date.now() + ms;
      while (Date.now() < end) {
        db.transaction(() => {
          for (let i = 0; i < 8; i++) insert.run(randomBytes(4096));
        })();
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    try {
      await commitFor(300); // the first tick may copy; none after it
      const held = statSync(file).size;
      await commitFor(300);
      expect(statSync(file).size).toBe(held);
      // A commit right before: the worker must not take the WAL for one at rest.
      db.transaction(() => insert.run(randomBytes(4096)))();
      const committed = db.prepare('SELECT count(*) FROM t').pluck().get() as number;
      cp.soon();
      // Commits go on (the WAL keeps moving), yet everything committed before soon() gets copied.
      let copied = false;
      const end = Date.now() + 5_000;
      while (!copied && Date.now() < end) {
        await commitFor(20);
        copied = statSync(file).size >= held + (committed * 4096) / 2;
      }
      expect(copied).toBe(true);
    } finally {
      await cp.close();
    }
    db.close();
  });

  it('gives a grown WAL back from its worker once the writer is idle, never on a commit', async () => {
    const file = join(tempDir(), 'a.db');
    const db = openDb(file);
    db.exec('CREATE TABLE t (b BLOB NOT NULL) STRICT');
    const cp = WalCheckpointer.start(db, file, 50);
    try {
      // A size limit would make the first commit after a WAL restart truncate the file, on the
      // writer's thread.
      expect(db.pragma('journal_size_limit', { simple: true })).toBe(-1);
      const insert = db.prepare('INSERT INTO t (b) VALUES (?)');
      db.transaction(() => {
        for (let i = 0; i < 2_000; i++) insert.run(randomBytes(4096));
      })();
      expect(statSync(`${file}-wal`).size).toBeGreaterThan(8e6);
      // Copied, then left alone: the worker truncates the WAL to nothing while the writer stays open.
      expect(await until(() => statSync(`${file}-wal`).size === 0, 20_000)).toBe(true);
      insert.run(randomBytes(10));
      expect(db.prepare('SELECT count(*) FROM t').pluck().get()).toBe(2_001);
    } finally {
      await cp.close();
    }
    db.close();
    const again = openDb(file);
    expect(again.prepare('SELECT count(*) FROM t').pluck().get()).toBe(2_001);
    again.close();
  });
});
