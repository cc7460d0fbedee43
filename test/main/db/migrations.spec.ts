import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { migrate, openDb } from '../../../main/db/database.js';
import { migrations } from '../../../main/db/migrations/index.js';
import * as m001 from '../../../main/db/migrations/001-initial.js';
import * as m002 from '../../../main/db/migrations/002-sync-folders.js';
import * as m003 from '../../../main/db/migrations/003-sync-latest.js';
import * as m004 from '../../../main/db/migrations/004-anchors.js';
import * as m006 from '../../../main/db/migrations/006-chunk-groups.js';
import * as m007 from '../../../main/db/migrations/007-file-cache-keys.js';
import * as m008 from '../../../main/db/migrations/008-log-leaves.js';
import * as m009 from '../../../main/db/migrations/009-content-prefix.js';
import * as m010 from '../../../main/db/migrations/010-block-hash-prefix.js';
import * as m011 from '../../../main/db/migrations/011-file-cache-locality.js';
import * as m012 from '../../../main/db/migrations/012-identity-index.js';
import * as m014 from '../../../main/db/migrations/014-implied-newest-edge.js';
import { pathKey } from '../../../main/archive/file-cache.js';
import { BlockWriter } from '../../../main/dag/block-writer.js';
import { seeded, tempDir } from '../../helpers/tmp.js';

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

  it('003 migrates an archive at version 2: each path gets its newest version, and pages use the key', () => {
    const file = join(tempDir(), 'a.db');
    const db = openDb(file, { migrations: [m001, m002] });
    expect(db.pragma('user_version', { simple: true })).toBe(2);
    const version = db.prepare(
      "INSERT INTO sync_versions (folder, path, n, seq, snapshot, ts, origin) VALUES (?, ?, ?, ?, 9, 0, 'local')",
    );
    // a.txt: three versions; b.txt: written then deleted; Ñandú.TXT in another folder.
    for (const [folder, path, n, seq] of [
      ['f1', 'a.txt', 1, 1],
      ['f1', 'a.txt', 2, 4],
      ['f1', 'b.txt', 1, 2],
      ['f1', 'a.txt', 3, 7],
      ['f1', 'b.txt', 2, null],
      ['f2', 'Ñandú.TXT', 1, 3],
    ] as const)
      version.run(folder, path, n, seq);
    db.close();

    // Up to 003 exactly: later migrations have tests of their own.
    const migrated = openDb(file, { migrations: [m001, m002, m003] });
    expect(migrated.pragma('user_version', { simple: true })).toBe(m003.version);
    expect(
      migrated.prepare('SELECT folder, path, folded, n, seq FROM sync_latest ORDER BY folder, path').all(),
    ).toEqual([
      { folder: 'f1', path: 'a.txt', folded: 'a.txt', n: 3, seq: 7 },
      { folder: 'f1', path: 'b.txt', folded: 'b.txt', n: 2, seq: null },
      // Folded as JavaScript folds, beyond ASCII too.
      { folder: 'f2', path: 'Ñandú.TXT', folded: 'ñandú.txt', n: 1, seq: 3 },
    ]);
    expect(
      migrated.prepare("SELECT sql FROM sqlite_master WHERE name = 'sync_latest'").pluck().get() as string,
    ).toMatch(/STRICT/);
    // A page in path order walks the primary key: no scan of the versions, no sort.
    const plan = (
      migrated
        .prepare(
          "EXPLAIN QUERY PLAN SELECT path, n, seq FROM sync_latest WHERE folder = 'f1' ORDER BY path LIMIT 200 OFFSET 400",
        )
        .all() as { detail: string }[]
    ).map((r) => r.detail);
    expect(plan.join('\n')).toMatch(/SEARCH sync_latest USING PRIMARY KEY \(folder=\?\)/);
    expect(plan.join('\n')).not.toMatch(/TEMP B-TREE|sync_versions/);
    migrated.close();
  });

  it('004 adds the anchor queue to an archive at version 3: only checkpoints, known states, receipts when anchored', () => {
    const file = join(tempDir(), 'a.db');
    const db = openDb(file, { migrations: [m001, m002, m003] });
    db.prepare("INSERT INTO checkpoints (size, root, tips, ts, signature) VALUES (5, x'00', x'', 0, x'00')").run();
    db.close();
    const migrated = openDb(file, { migrations: [m001, m002, m003, m004] });
    expect(migrated.pragma('user_version', { simple: true })).toBe(4);
    expect(migrated.prepare("SELECT sql FROM sqlite_master WHERE name = 'anchors'").pluck().get()).toMatch(/STRICT/);
    const queue = migrated.prepare('INSERT INTO anchors (size, state, queued_at) VALUES (?, ?, 0)');
    queue.run(5, 'queued');
    expect(() => queue.run(6, 'queued')).toThrow(/FOREIGN KEY/); // no checkpoint of size 6
    migrated.prepare('DELETE FROM anchors').run();
    expect(() => queue.run(5, 'sent')).toThrow(/CHECK/);
    expect(() => queue.run(5, 'anchored')).toThrow(/CHECK/); // anchored without a receipt
    migrated.close();
  });

  it('006 adds the group columns to chunks at version 5: old rows stand alone, new rows can name a frame', () => {
    const file = join(tempDir(), 'a.db');
    const before = migrations.filter((m) => m.version <= 5);
    const db = openDb(file, { migrations: before });
    db.prepare(
      "INSERT INTO chunks (rid, id, raw_len, stored_len, codec, pack, offset) VALUES (1, x'01', 9, 5, 1, 1, 0)",
    ).run();
    db.close();
    const migrated = openDb(file, { migrations: [...before, m006] });
    expect(migrated.pragma('user_version', { simple: true })).toBe(6);
    expect(migrated.prepare('SELECT frame_len, frame_raw, frame_at FROM chunks WHERE rid = 1').get()).toEqual({
      frame_len: null,
      frame_raw: null,
      frame_at: null,
    });
    migrated
      .prepare(
        "INSERT INTO chunks (rid, id, raw_len, stored_len, codec, pack, offset, frame_len, frame_raw, frame_at) VALUES (2, x'02', 9, 3, 2, 1, 5, 40, 100, 30)",
      )
      .run();
    expect(() =>
      migrated
        .prepare("INSERT INTO chunks (rid, id, raw_len, stored_len, codec, frame_at) VALUES (3, x'03', 1, 1, 2, 'x')")
        .run(),
    ).toThrow(/cannot store TEXT value in INTEGER column/);
    migrated.close();
  });

  it('007 keys the fast-path cache by a 64-bit path hash and drops the old rows', () => {
    const file = join(tempDir(), 'a.db');
    const before = migrations.filter((m) => m.version <= 6);
    const db = openDb(file, { migrations: before });
    db.prepare(
      "INSERT INTO file_cache (path, size, mtime_ns, ino, mode, seq) VALUES ('/x/a.txt', 1, 2, 3, 4, 5)",
    ).run();
    db.close();
    const migrated = openDb(file, { migrations: [...before, m007] });
    expect(migrated.pragma('user_version', { simple: true })).toBe(7);
    expect(migrated.prepare('SELECT count(*) FROM file_cache').pluck().get()).toBe(0);
    const cols = migrated.prepare<[], { name: string; pk: number }>('PRAGMA table_info(file_cache)').all();
    expect(cols.map((c) => c.name)).toEqual(['key', 'size', 'mtime_ns', 'ino', 'mode', 'seq']);
    const insert = migrated.prepare(
      'INSERT INTO file_cache (key, size, mtime_ns, ino, mode, seq) VALUES (?, 1, 2, 3, 4, 5)',
    );
    insert.run(-(2n ** 63n)); // the whole signed 64-bit range fits the rowid
    insert.run(2n ** 63n - 1n);
    expect(() => insert.run(2n ** 63n - 1n)).toThrow(/UNIQUE|PRIMARY KEY/);
    migrated.close();
  });

  it('008 drops the stored log leaves (the blocks hold them) and keeps the levels above', () => {
    const file = join(tempDir(), 'a.db');
    const before = migrations.filter((m) => m.version <= 7);
    const db = openDb(file, { migrations: before });
    const node = db.prepare("INSERT INTO log_nodes (level, idx, hash) VALUES (?, ?, x'aa')");
    for (const [level, idx] of [
      [0, 0],
      [0, 1],
      [1, 0],
      [0, 2],
      [0, 3],
      [1, 1],
      [2, 0],
    ])
      node.run(level, idx);
    db.close();
    const migrated = openDb(file, { migrations: [...before, m008] });
    expect(migrated.pragma('user_version', { simple: true })).toBe(8);
    expect(migrated.prepare('SELECT level, idx FROM log_nodes ORDER BY level, idx').all()).toEqual([
      { level: 1, idx: 0 },
      { level: 1, idx: 1 },
      { level: 2, idx: 0 },
    ]);
    migrated.close();
  });

  it('009 indexes the first 8 bytes of content roots, and a lookup of a whole root uses it', () => {
    const file = join(tempDir(), 'a.db');
    const before = migrations.filter((m) => m.version <= 8);
    openDb(file, { migrations: before }).close();
    const migrated = openDb(file, { migrations: [...before, m009] });
    expect(migrated.pragma('user_version', { simple: true })).toBe(9);
    expect(migrated.prepare("SELECT sql FROM sqlite_master WHERE name = 'blocks_content'").pluck().get()).toMatch(
      /substr\(content_root, 1, 8\)/,
    );
    const plan = migrated
      .prepare(
        "EXPLAIN QUERY PLAN SELECT seq FROM blocks WHERE substr(content_root, 1, 8) = substr(?, 1, 8) AND content_root = ? AND kind <> 'genesis'",
      )
      .all(Buffer.alloc(32), Buffer.alloc(32)) as { detail: string }[];
    expect(plan.map((r) => r.detail).join('\n')).toMatch(/SEARCH blocks USING INDEX blocks_content/);
    migrated.close();
  });

  it('010 rebuilds blocks without the UNIQUE hash index: rows kept, lookups by 8-byte prefix', () => {
    const file = join(tempDir(), 'a.db');
    const before = migrations.filter((m) => m.version <= 9);
    const db = openDb(file, { migrations: before });
    const insert = db.prepare(
      'INSERT INTO blocks (seq, hash, kind, depth, ts, size, stored_size, content_root, header) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    const rows = [0, 1, 2].map((seq) => ({
      seq,
      hash: Buffer.alloc(32, seq + 1),
      kind: seq === 0 ? 'genesis' : 'file',
      depth: seq,
      ts: 1000 + seq,
      size: 10 * seq,
      stored_size: 5 * seq,
      content_root: Buffer.alloc(32, 0x40 + seq),
      header: Buffer.from([2, seq]),
    }));
    for (const r of rows) insert.run(...Object.values(r));
    db.close();
    const migrated = openDb(file, { migrations: [...before, m010] });
    expect(migrated.pragma('user_version', { simple: true })).toBe(10);
    expect(migrated.prepare('SELECT * FROM blocks ORDER BY seq').all()).toEqual(rows);
    const indexes = migrated
      .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'blocks' ORDER BY name")
      .pluck()
      .all();
    expect(indexes).toEqual(['blocks_content', 'blocks_hash']);
    const plan = (sql: string) =>
      (migrated.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(rows[2]!.hash, rows[2]!.hash) as { detail: string }[])
        .map((r) => r.detail)
        .join('\n');
    expect(plan('SELECT seq FROM blocks WHERE substr(hash, 1, 8) = substr(?, 1, 8) AND hash = ?')).toMatch(
      /SEARCH blocks USING INDEX blocks_hash/,
    );
    expect(
      migrated
        .prepare('SELECT seq FROM blocks WHERE substr(hash, 1, 8) = substr(?, 1, 8) AND hash = ?')
        .pluck()
        .get(rows[2]!.hash, rows[2]!.hash),
    ).toBe(2);
    migrated.close();
  });

  it("012 indexes content roots with the header's last 8 bytes, in place of the roots alone", () => {
    const file = join(tempDir(), 'a.db');
    const before = migrations.filter((m) => m.version <= 11);
    const db = openDb(file, { migrations: before });
    db.prepare(
      'INSERT INTO blocks (seq, hash, kind, depth, ts, size, stored_size, content_root, header) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    ).run(1, Buffer.alloc(32, 1), 'file', 1, 1, 0, 0, Buffer.alloc(32, 7), Buffer.from('0123456789abcdef'));
    db.close();
    const migrated = openDb(file, { migrations: [...before, m012] });
    expect(migrated.pragma('user_version', { simple: true })).toBe(12);
    const indexes = migrated
      .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'blocks' ORDER BY name")
      .pluck()
      .all();
    expect(indexes).toEqual(['blocks_hash', 'blocks_identity']);
    // The existing row is in the new index: found by its root's prefix and its header's tail.
    const find = migrated
      .prepare('SELECT seq FROM blocks WHERE substr(content_root, 1, 8) = substr(?, 1, 8) AND substr(header, -8) = ?')
      .pluck();
    expect(find.get(Buffer.alloc(32, 7), Buffer.from('89abcdef'))).toBe(1);
    expect(find.get(Buffer.alloc(32, 7), Buffer.from('89abcdeF'))).toBeUndefined();
    migrated.close();
  });

  it('015 drops the identity index: a writer of the migrated archive still finds identical objects', () => {
    const file = join(tempDir(), 'archive.db');
    const before = migrations.filter((m) => m.version <= 14);
    const db = openDb(file, { migrations: before });
    const stored = {
      kind: 'file' as const,
      contentRoot: Buffer.alloc(32, 9),
      size: 3,
      storedSize: 3,
      chunkCount: 1,
      codec: 'none',
      meta: { mode: '0644', mtime: '1', name: 'a.txt' },
    };
    const w = new BlockWriter(db, { random: seeded(3) });
    db.transaction(() => {
      w.writeGenesis({ archiveId: 'm' });
      w.append(stored);
    })();
    db.close();
    const migrated = openDb(file);
    expect(migrated.pragma('user_version', { simple: true })).toBe(15);
    const indexes = migrated
      .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'blocks' ORDER BY name")
      .pluck()
      .all();
    expect(indexes).toEqual(['blocks_hash']);
    const again = new BlockWriter(migrated, { random: seeded(4) });
    expect(migrated.transaction(() => again.append(stored))()).toMatchObject({ reused: true, seq: 1 });
    expect(
      migrated.transaction(() => again.append({ ...stored, meta: { ...stored.meta, mtime: '2' } }))(),
    ).toMatchObject({
      reused: false,
      seq: 2,
    });
    migrated.close();
  });

  it('014 drops each edge from the block just before (implied), and keeps the others', () => {
    const file = join(tempDir(), 'a.db');
    const before = migrations.filter((m) => m.version <= 13);
    const db = openDb(file, { migrations: before });
    const edge = db.prepare('INSERT INTO edges (parent, child) VALUES (?, ?)');
    for (const [parent, child] of [
      [0, 1],
      [0, 2],
      [1, 2],
      [0, 3],
      [2, 3],
      [1, 4],
      [3, 4],
      [2, 5],
      [4, 5],
    ])
      edge.run(parent, child);
    db.close();
    const migrated = openDb(file, { migrations: [...before, m014] });
    expect(migrated.pragma('user_version', { simple: true })).toBe(14);
    expect(migrated.prepare('SELECT parent, child FROM edges ORDER BY child, parent').raw().all()).toEqual([
      [0, 2],
      [0, 3],
      [1, 4],
      [2, 5],
    ]);
    migrated.close();
  });

  it("011 empties the fast-path cache, whose keys now keep a directory's files together", () => {
    const file = join(tempDir(), 'a.db');
    const before = migrations.filter((m) => m.version <= 10);
    const db = openDb(file, { migrations: before });
    db.prepare('INSERT INTO file_cache (key, size, mtime_ns, ino, mode, seq) VALUES (?, 1, 2, 3, 4, 5)').run(42n);
    db.close();
    const migrated = openDb(file, { migrations: [...before, m011] });
    expect(migrated.pragma('user_version', { simple: true })).toBe(11);
    expect(migrated.prepare('SELECT count(*) FROM file_cache').pluck().get()).toBe(0);
    migrated.close();

    // The key: 32 bits of the directory's hash, then 32 of the name's.
    const inA = ['/data/a/x.txt', '/data/a/y.txt', '/data/a/z.txt'].map(pathKey);
    const high = (k: bigint) => BigInt.asUintN(64, k) >> 32n;
    expect(new Set(inA.map(high)).size).toBe(1);
    expect(new Set(inA).size).toBe(3);
    expect(high(pathKey('/data/b/x.txt'))).not.toBe(high(inA[0]!));
    expect(BigInt.asUintN(32, pathKey('/data/b/x.txt'))).toBe(BigInt.asUintN(32, inA[0]!)); // same name
    // Same answer whatever came before (the directory's half is remembered between calls).
    expect(pathKey('/data/a/y.txt')).toBe(inA[1]);
    expect(pathKey('/x')).toBe(pathKey('/x'));
    expect(high(pathKey('/x'))).not.toBe(high(pathKey('/data/x')));
    // Exactly the documented bits (stored keys must never change meaning), unicode names included.
    const first4 = (s: string) => BigInt(createHash('sha256').update(s, 'utf8').digest().readUInt32BE(0));
    for (const p of ['/data/a/x.txt', '/dätä/ünï/çødé ✓.txt', '/x', '/a/b/c/d/e/f']) {
      const slash = p.lastIndexOf('/');
      const want = BigInt.asIntN(64, (first4(p.slice(0, slash)) << 32n) | first4(p.slice(slash + 1)));
      expect(pathKey(p)).toBe(want);
    }
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
