import {
  closeSync,
  existsSync,
  openSync,
  readdirSync,
  readSync,
  statSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDb } from '../../../main/db/database.js';
import { createChunkStore, type ChunkInfo, type ChunkStoreInit } from '../../../main/store/index.js';
import { chunkOf, chunkStoreCompliance, newEnv } from './chunk-store-compliance.js';
import { randomBytesSeeded, textBytes } from './fixtures.js';

type Located = ChunkInfo & { pack: number; offset: number };
const packPath = (dir: string, pack: number): string => join(dir, 'packs', `${pack}.pack`);
const open = (init: ChunkStoreInit) => createChunkStore('pack', init);

chunkStoreCompliance('pack', {
  open,
  corrupt({ dir }, chunk) {
    const { pack, offset, storedLength } = chunk as Located;
    const fd = openSync(packPath(dir, pack), 'r+');
    const at = offset + Math.floor(storedLength / 2);
    const b = Buffer.alloc(1);
    readSync(fd, b, 0, 1, at);
    b[0] = b[0]! ^ 0xff;
    writeSync(fd, b, 0, 1, at);
    closeSync(fd);
  },
  remove({ dir }, chunk) {
    const { pack, offset } = chunk as Located;
    truncateSync(packPath(dir, pack), offset);
  },
});

describe('pack chunk store', () => {
  const packSizes = (db: ReturnType<typeof openDb>) =>
    db.prepare<[], { id: number; size: number }>('SELECT id, size FROM packs ORDER BY id').all();

  it('cuts bytes past the committed size when reopened for writing, and only then', () => {
    const env = newEnv();
    const store = open({ db: env.db, dir: env.dir });
    const a = store.put(chunkOf(textBytes(50_000, 1))) as Located;
    store.sync();
    env.db.transaction(() => store.persist())();
    store.put(chunkOf(randomBytesSeeded(60_000, 2)));
    store.sync();
    store.close();
    const committed = packSizes(env.db);
    expect(committed).toEqual([{ id: a.pack, size: a.storedLength }]);
    expect(statSync(packPath(env.dir, a.pack)).size).toBe(a.storedLength + 60_000);

    // A reader never touches the files.
    const rdb = openDb(env.dbFile, { readonly: true });
    open({ db: rdb, dir: env.dir, readonly: true }).close();
    rdb.close();
    expect(statSync(packPath(env.dir, a.pack)).size).toBe(a.storedLength + 60_000);

    const again = open({ db: env.db, dir: env.dir });
    expect(statSync(packPath(env.dir, a.pack)).size).toBe(a.storedLength);
    // Appending resumes at the committed end.
    const b = again.put(chunkOf(textBytes(20_000, 3))) as Located;
    expect(b).toMatchObject({ pack: a.pack, offset: a.storedLength });
    again.close();
  });

  it('starts a new pack at the size limit and reads across packs after a reopen', () => {
    const env = newEnv();
    const store = open({ db: env.db, dir: env.dir, packSizeLimit: 100_000 });
    const raws = Array.from({ length: 12 }, (_, i) => randomBytesSeeded(30_000, 10 + i));
    const infos = raws.map((r) => store.put(chunkOf(r)) as Located);
    store.sync();
    env.db.transaction(() => store.persist())();
    store.close();
    expect(new Set(infos.map((i) => i.pack)).size).toBe(4);
    for (const { id, size } of packSizes(env.db)) {
      expect(size).toBeLessThanOrEqual(100_000);
      expect(statSync(packPath(env.dir, id)).size).toBe(size);
    }
    const reopened = open({ db: env.db, dir: env.dir, packSizeLimit: 100_000 });
    raws.forEach((r, i) => expect(reopened.read(infos[i]!.id).equals(r)).toBe(true));
    expect(reopened.check()).toEqual([]);
    reopened.close();
  });

  it('removes pack files that no committed row knows', () => {
    const env = newEnv();
    const store = open({ db: env.db, dir: env.dir, packSizeLimit: 50_000 });
    store.put(chunkOf(randomBytesSeeded(40_000, 1)));
    store.sync();
    env.db.transaction(() => store.persist())();
    store.put(chunkOf(randomBytesSeeded(40_000, 2))); // goes to pack 2, never committed
    store.sync();
    store.close();
    writeFileSync(packPath(env.dir, 77), 'left by a crash');
    writeFileSync(join(env.dir, 'packs', 'notes.txt'), 'not ours');
    expect(readdirSync(join(env.dir, 'packs')).sort()).toEqual(['1.pack', '2.pack', '77.pack', 'notes.txt']);
    open({ db: env.db, dir: env.dir, packSizeLimit: 50_000 }).close();
    expect(readdirSync(join(env.dir, 'packs')).sort()).toEqual(['1.pack', 'notes.txt']);
  });

  it('does not append into a pack that lost committed bytes, and check reports the loss', () => {
    const env = newEnv();
    const store = open({ db: env.db, dir: env.dir });
    const a = store.put(chunkOf(randomBytesSeeded(30_000, 1))) as Located;
    const b = store.put(chunkOf(randomBytesSeeded(30_000, 2))) as Located;
    store.sync();
    env.db.transaction(() => store.persist())();
    store.close();
    truncateSync(packPath(env.dir, a.pack), 40_000);
    const again = open({ db: env.db, dir: env.dir });
    const c = again.put(chunkOf(randomBytesSeeded(30_000, 3))) as Located;
    expect(c.pack).not.toBe(a.pack);
    expect(again.check()).toEqual([expect.objectContaining({ id: b.id.toString('hex'), problem: 'missing' })]);
    expect(existsSync(packPath(env.dir, c.pack))).toBe(true);
    again.close();
  });
});
