import Database from 'better-sqlite3';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { migrate, openDb } from '../../../main/db/database.js';
import { migrations } from '../../../main/db/migrations/index.js';
import * as m001 from '../../../main/db/migrations/001-initial.js';
import { tempDir } from '../../helpers/tmp.js';

describe('schema migrations', () => {
  it('001 creates every table STRICT and sets user_version 1', () => {
    const db = new Database(join(tempDir(), 'a.db'));
    migrate(db, [m001]);
    expect(db.pragma('user_version', { simple: true })).toBe(1);
    const tables = db.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'table'").all() as {
      name: string;
      sql: string;
    }[];
    expect(tables.map((t) => t.name).sort()).toEqual(
      [
        'blocks',
        'checkpoints',
        'chunk_data',
        'chunks',
        'edges',
        'file_cache',
        'log_nodes',
        'meta',
        'object_chunks',
        'packs',
      ].sort(),
    );
    for (const t of tables) expect(t.sql).toMatch(/STRICT/);
    // STRICT really rejects a wrong type.
    expect(() => db.prepare("INSERT INTO packs (id, size) VALUES (1, 'big')").run()).toThrow(/cannot store TEXT/);
  });

  it('is idempotent and refuses a newer schema than it knows', () => {
    const file = join(tempDir(), 'a.db');
    openDb(file).close();
    const db = openDb(file); // second open: nothing to apply
    expect(db.pragma('user_version', { simple: true })).toBe(migrations.at(-1)!.version);
    db.pragma('user_version = 99');
    db.close();
    expect(() => openDb(file)).toThrow(expect.objectContaining({ name: 'SchemaVersionError' }));
    expect(() => openDb(file, { readonly: true })).toThrow(expect.objectContaining({ name: 'SchemaVersionError' }));
  });

  it('opens in WAL mode', () => {
    const db = openDb(join(tempDir(), 'a.db'));
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
  });
});
