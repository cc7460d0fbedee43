import { describe, expect, it } from 'vitest';
import { openDb } from '../../../main/db/database.js';
import { createChunkStore, type ChunkStoreInit } from '../../../main/store/index.js';
import { chunkOf, chunkStoreCompliance, newEnv } from './chunk-store-compliance.js';
import { randomBytesSeeded, textBytes } from './fixtures.js';

const open = (init: ChunkStoreInit) => createChunkStore('sqlite', init);

chunkStoreCompliance('sqlite', {
  open,
  corrupt({ db }, chunk) {
    const data = Buffer.from(
      db.prepare<[number], Buffer>('SELECT data FROM chunk_data WHERE rid = ?').pluck().get(chunk.rid)!,
    );
    const at = Math.floor(data.length / 2);
    data[at] = data[at]! ^ 0xff;
    db.prepare('UPDATE chunk_data SET data = ? WHERE rid = ?').run(data, chunk.rid);
  },
  remove({ db }, chunk) {
    db.prepare('DELETE FROM chunk_data WHERE rid = ?').run(chunk.rid);
  },
});

describe('sqlite chunk store', () => {
  const dataRows = (db: ReturnType<typeof openDb>) => db.prepare('SELECT count(*) FROM chunk_data').pluck().get();

  it('writes staged bytes once they pass the stage limit, and a writer reopening deletes them unindexed', () => {
    const env = newEnv();
    const store = open({ db: env.db, dir: env.dir });
    const kept = store.put(chunkOf(textBytes(10_000, 1)));
    store.sync();
    env.db.transaction(() => store.persist())();
    for (let i = 0; i < 10; i++) store.put(chunkOf(randomBytesSeeded(2 ** 20, 10 + i)));
    // 10 MiB staged passes the 8 MiB limit: most rows are in chunk_data before any persist.
    expect(dataRows(env.db)).toBeGreaterThanOrEqual(9);
    store.close();

    const rdb = openDb(env.dbFile, { readonly: true });
    open({ db: rdb, dir: env.dir, readonly: true }).close();
    rdb.close();
    expect(dataRows(env.db)).toBeGreaterThanOrEqual(9);

    const again = open({ db: env.db, dir: env.dir });
    expect(dataRows(env.db)).toBe(1);
    expect(again.readByRid(kept.rid).equals(textBytes(10_000, 1))).toBe(true);
    again.close();
  });

  it('keeps bytes written inside a rolled-back persist and writes them again', () => {
    const env = newEnv();
    const store = open({ db: env.db, dir: env.dir });
    const c = store.put(chunkOf(textBytes(10_000, 2)));
    // No sync: the bytes are first written inside the persist transaction, which then fails.
    expect(() =>
      env.db.transaction(() => {
        store.persist();
        throw new Error('fail');
      })(),
    ).toThrow('fail');
    expect(dataRows(env.db)).toBe(0);
    env.db.transaction(() => store.persist())();
    expect(dataRows(env.db)).toBe(1);
    store.close();
    const again = open({ db: env.db, dir: env.dir });
    expect(again.read(c.id).equals(textBytes(10_000, 2))).toBe(true);
    again.close();
  });
});
