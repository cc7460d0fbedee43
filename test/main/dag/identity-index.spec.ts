import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDb, type Db } from '../../../main/db/database.js';
import { BlockWriter, type BlockSpec } from '../../../main/dag/block-writer.js';
import { IDENTITY_FILE, identityKey } from '../../../main/dag/identity-file.js';
import { compactMeta, storedCompactMeta } from '../../../main/dag/stored-header.js';
import { IdentityIndex, type IdentityIndexInit } from '../../../main/dag/identity-index.js';
import { seeded, tempDir } from '../../helpers/tmp.js';

function file(i: number, root: Buffer = randomBytes(32)): BlockSpec {
  return {
    kind: 'file',
    contentRoot: root,
    size: 10,
    storedSize: 10,
    chunkCount: 1,
    codec: 'none',
    meta: { mode: '0644', mtime: String(1_700_000_000 + i), name: `f${i}.txt` },
  };
}

/** An archive database with a genesis block and a writer whose identity lives in `dir`'s file. */
function open(dir: string, init: Omit<IdentityIndexInit, 'files'> & { archiveFile?: string } = {}) {
  const dbFile = join(dir, 'archive.db');
  const db = openDb(dbFile);
  if (db.prepare('SELECT 1 FROM blocks WHERE seq = 0').get() === undefined) {
    const w = new BlockWriter(db, { random: seeded(1) });
    db.transaction(() => w.writeGenesis({ archiveId: dir }))();
    w.identity.close();
  }
  const genesis = db.prepare('SELECT hash FROM blocks WHERE seq = 0').pluck().get() as Buffer;
  const identity = new IdentityIndex(db, {
    ...init,
    files: { archive: init.archiveFile ?? dbFile, identity: join(dir, IDENTITY_FILE), genesis },
  });
  const writer = new BlockWriter(db, { random: seeded(2), identity });
  const appendAll = (specs: BlockSpec[]) =>
    db.transaction(() => writer.batch(() => specs.map((s) => writer.append(s))))();
  return { db, writer, identity, appendAll };
}

/** Waits until the worker has written every committed block's entry to the file. */
async function settled(identity: IdentityIndex): Promise<void> {
  const until = Date.now() + 20_000;
  while (identity.inMemory > 0) {
    if (Date.now() > until) throw new Error(`identity worker still ${identity.inMemory} blocks behind`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** An archive in `dir` with `n` file blocks, every one in its identity file; closed again. */
async function indexedArchive(dir: string, n: number): Promise<BlockSpec[]> {
  const first = open(dir, { workerAfter: 10 });
  const specs = Array.from({ length: n }, (_, i) => file(i));
  first.appendAll(specs);
  await settled(first.identity);
  await first.identity.close();
  first.db.close();
  return specs;
}

function fileEntries(dir: string): { key: string; seq: number }[] {
  const f = new Database(join(dir, IDENTITY_FILE), { readonly: true });
  try {
    return (f.prepare('SELECT key, seq FROM identity ORDER BY seq').all() as { key: Buffer; seq: number }[]).map(
      (r) => ({ key: r.key.toString('hex'), seq: r.seq }),
    );
  } finally {
    f.close();
  }
}

function expectedEntries(db: Db): { key: string; seq: number }[] {
  return (
    db.prepare('SELECT seq, content_root AS root, header FROM blocks ORDER BY seq').all() as {
      seq: number;
      root: Buffer;
      header: Buffer;
    }[]
  ).map((r) => ({ key: identityKey(r.root, storedCompactMeta(r.header)).toString('hex'), seq: r.seq }));
}

describe('identity index', () => {
  it('a worker writes every committed block to the file, and identical objects are found there', async () => {
    const dir = tempDir();
    const { db, identity, appendAll } = open(dir, { workerAfter: 100 });
    const specs = Array.from({ length: 1_500 }, (_, i) => file(i));
    const written = appendAll(specs);
    expect(identity.mode).toBe('worker');
    await settled(identity);
    expect(identity.indexed).toBe(1_501);
    expect(fileEntries(dir)).toEqual(expectedEntries(db));
    // Nothing in memory now: these are found through the file alone.
    const again = appendAll([specs[0]!, specs[777]!, { ...specs[3]!, meta: { ...specs[3]!.meta, mtime: '1' } }]);
    expect(again.map((w) => w.reused)).toEqual([true, true, false]);
    expect(again[0]!.hash.equals(written[0]!.hash)).toBe(true);
    expect(again[1]!.seq).toBe(written[777]!.seq);
    await identity.close();
    db.close();
  });

  it('a writer opened on a file that lags holds the rest in memory, and finds objects in both', async () => {
    const dir = tempDir();
    const first = open(dir, { workerAfter: 100 });
    const specs = Array.from({ length: 600 }, (_, i) => file(i));
    first.appendAll(specs.slice(0, 300));
    await settled(first.identity);
    await first.identity.close();
    // The second half is stored by a writer whose worker never starts: the file stays at 301.
    const second = open(dir, { workerAfter: 1_000_000 });
    second.appendAll(specs.slice(300));
    await second.identity.close();
    second.db.close();

    const third = open(dir, { workerAfter: 1_000_000 });
    expect(third.identity.indexed).toBe(301);
    expect(third.identity.inMemory).toBe(300);
    const again = third.appendAll([specs[5]!, specs[450]!]);
    expect(again.map((w) => [w.reused, w.seq])).toEqual([
      [true, 6],
      [true, 451],
    ]);
    await third.identity.close();
    third.db.close();
  });

  it('a rolled-back block leaves memory: the same object afterwards is a new block', () => {
    const dir = tempDir();
    const { db, writer, identity, appendAll } = open(dir);
    appendAll([file(1)]);
    const lost = file(2);
    expect(() =>
      db.transaction(() => {
        writer.append(lost);
        throw new Error('abort');
      })(),
    ).toThrow('abort');
    writer.reload();
    expect(identity.inMemory).toBe(2);
    const [w] = appendAll([lost]);
    expect(w!.reused).toBe(false);
    expect(w!.seq).toBe(2);
    expect(appendAll([lost])[0]!.reused).toBe(true);
    db.close();
  });

  it('an entry that points at another block is passed over: entries are hints, rows decide', async () => {
    const dir = tempDir();
    const specs = await indexedArchive(dir, 50);
    // The key of a new object (its root, block 7's metadata) points at block 7, as an entry left
    // from before a power loss could.
    const stray = file(99);
    const f = new Database(join(dir, IDENTITY_FILE));
    f.prepare('INSERT INTO identity (key, seq) VALUES (?, 7)').run(
      identityKey(stray.contentRoot, compactMeta(specs[6]!.meta)),
    );
    f.close();
    const again = open(dir, { workerAfter: 10 });
    const [w] = again.appendAll([{ ...stray, meta: specs[6]!.meta }]);
    expect(w!.reused).toBe(false);
    expect(w!.seq).toBe(51);
    await again.identity.close();
    again.db.close();
  });

  it("a file made for another archive is emptied; a watermark past the archive's end comes back to it", async () => {
    const a = tempDir();
    const b = tempDir();
    await indexedArchive(a, 40);
    const two = open(b, { workerAfter: 10 });
    const specs = Array.from({ length: 30 }, (_, i) => file(i));
    two.appendAll(specs);
    await two.identity.close();
    two.db.close();
    // b's file replaced by a's: its 41 entries describe other blocks.
    copyFileSync(join(a, IDENTITY_FILE), join(b, IDENTITY_FILE));
    const reopened = open(b, { workerAfter: 10 });
    expect(reopened.identity.indexed).toBe(0);
    expect(reopened.appendAll([specs[12]!])[0]).toMatchObject({ reused: true, seq: 13 });
    await settled(reopened.identity);
    expect(fileEntries(b)).toEqual(expectedEntries(reopened.db));
    await reopened.identity.close();
    reopened.db.close();
    // The file saw 10 blocks the archive no longer has (a restored backup, a power loss).
    const f = new Database(join(b, IDENTITY_FILE));
    f.prepare('UPDATE state SET indexed = indexed + 10').run();
    f.prepare('INSERT INTO identity (key, seq) VALUES (?, ?)').run(randomBytes(16), 35);
    f.close();
    const shorter = open(b, { workerAfter: 1_000 });
    expect(shorter.identity.indexed).toBe(31);
    expect(fileEntries(b)).toEqual(expectedEntries(shorter.db));
    expect(shorter.appendAll([file(100)])[0]).toMatchObject({ reused: false, seq: 31 });
    await shorter.identity.close();
    shorter.db.close();
  });

  it('a worker that cannot start leaves every entry in memory, and identical objects are still found', async () => {
    const dir = tempDir();
    const { db, identity, appendAll } = open(dir, { workerAfter: 10, archiveFile: join(dir, 'missing.db') });
    const specs = Array.from({ length: 200 }, (_, i) => file(i));
    appendAll(specs);
    const until = Date.now() + 20_000;
    while (identity.mode !== 'failed' && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    expect(identity.mode).toBe('failed');
    expect(identity.inMemory).toBe(201);
    expect(appendAll([specs[150]!])[0]).toMatchObject({ reused: true, seq: 151 });
    await identity.close();
    db.close();
  });

  it('an archive whose file was deleted is indexed again by the next writer', async () => {
    const dir = tempDir();
    const specs = await indexedArchive(dir, 100);
    for (const suffix of ['', '-wal', '-shm']) rmSync(join(dir, IDENTITY_FILE + suffix), { force: true });
    const again = open(dir, { workerAfter: 10 });
    expect(again.identity.inMemory).toBe(101);
    await settled(again.identity);
    expect(existsSync(join(dir, IDENTITY_FILE))).toBe(true);
    expect(fileEntries(dir)).toEqual(expectedEntries(again.db));
    expect(again.appendAll([specs[99]!])[0]).toMatchObject({ reused: true, seq: 100 });
    await again.identity.close();
    again.db.close();
  });
});
