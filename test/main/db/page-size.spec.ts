import Database from 'better-sqlite3';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDb, PAGE_SIZE } from '../../../main/db/database.js';
import { Archive } from '../../../main/archive/archive.js';
import { readAll } from '../../helpers/archive.js';
import { tempDir } from '../../helpers/tmp.js';

const pageSize = (file: string): number => {
  const db = new Database(file, { readonly: true });
  try {
    return db.pragma('page_size', { simple: true }) as number;
  } finally {
    db.close();
  }
};

describe('database page size', () => {
  it('a new archive database is made with PAGE_SIZE pages, in WAL mode', () => {
    expect(PAGE_SIZE).toBe(32_768);
    const file = join(tempDir(), 'a.db');
    const db = openDb(file);
    expect(db.pragma('page_size', { simple: true })).toBe(PAGE_SIZE);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
    expect(pageSize(file)).toBe(PAGE_SIZE);
  });

  it('an archive made through Archive.open gets it too, and stores and reads back', async () => {
    const dir = tempDir();
    const src = join(tempDir(), 'f.txt');
    writeFileSync(src, 'page size\n'.repeat(1000));
    const a = await Archive.open({ dir, workers: 1 });
    try {
      const { results } = await a.store([src]);
      expect((await readAll(a, results[0]!.hash)).toString()).toBe('page size\n'.repeat(1000));
    } finally {
      await a.close();
    }
    expect(pageSize(join(dir, 'archive.db'))).toBe(PAGE_SIZE);
  });

  it('an existing database keeps the page size it was made with, and opens without error', () => {
    const file = join(tempDir(), 'old.db');
    const old = new Database(file);
    old.pragma('page_size = 4096');
    old.pragma('journal_mode = WAL');
    old.exec('CREATE TABLE t (x INTEGER)');
    old.close();
    const db = openDb(file);
    expect(db.pragma('page_size', { simple: true })).toBe(4096);
    expect(db.pragma('user_version', { simple: true })).toBeGreaterThan(0);
    db.close();
    expect(pageSize(file)).toBe(4096);
  });
});
