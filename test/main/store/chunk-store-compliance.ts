import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDb, type Db } from '../../../main/db/database.js';
import {
  ChunkEncoder,
  Codec,
  type ChunkInfo,
  type ChunkStore,
  type ChunkStoreInit,
  type NewChunk,
} from '../../../main/store/index.js';
import { tempDir } from '../../helpers/tmp.js';
import { randomBytesSeeded, textBytes } from './fixtures.js';

/** What the compliance suite needs from one chunk store implementation. */
export interface ChunkStoreTarget {
  open(init: ChunkStoreInit): ChunkStore;
  /** Flips one stored byte of the chunk where the store keeps it (db is a writable handle). */
  corrupt(env: { dir: string; db: Db }, chunk: ChunkInfo): void;
  /** Deletes the chunk's stored bytes but not its row. */
  remove(env: { dir: string; db: Db }, chunk: ChunkInfo): void;
}

const encoder = new ChunkEncoder(3);

/** An encoded chunk of `raw`, named by its SHA-256. */
export function chunkOf(raw: Buffer): NewChunk {
  return { id: createHash('sha256').update(raw).digest(), rawLength: raw.length, encoded: encoder.encode(raw) };
}

/** A writable environment: a temp archive dir with a migrated database. */
export function newEnv(): { dir: string; dbFile: string; db: Db } {
  const dir = tempDir('pakit-store-');
  const dbFile = join(dir, 'archive.db');
  return { dir, dbFile, db: openDb(dbFile) };
}

const named = (name: string) => expect.objectContaining({ name });

/** Runs the behaviour every ChunkStore must have against one implementation. */
export function chunkStoreCompliance(name: string, target: ChunkStoreTarget): void {
  describe(`${name} chunk store (compliance)`, () => {
    const text = textBytes(100_000, 11);
    const random = randomBytesSeeded(70_000, 12);
    const small = Buffer.from('a tiny chunk');

    it('puts, looks up and reads back raw and compressed chunks before and after persist', () => {
      const { dir, db } = newEnv();
      const store = target.open({ db, dir });
      const infos = [text, random, small].map((raw) => {
        const c = chunkOf(raw);
        const info = store.put(c);
        expect(info).toMatchObject({
          rawLength: raw.length,
          storedLength: c.encoded.data.length,
          codec: c.encoded.codec,
        });
        expect(info.id.equals(c.id)).toBe(true);
        expect(store.lookup(c.id)).toEqual(info);
        expect(store.read(c.id).equals(raw)).toBe(true);
        expect(store.readByRid(info.rid).equals(raw)).toBe(true);
        return info;
      });
      expect(infos.map((i) => i.codec)).toEqual([Codec.Zstd, Codec.Raw, Codec.Raw]);
      expect(new Set(infos.map((i) => i.rid)).size).toBe(3);
      store.sync();
      db.transaction(() => store.persist())();
      for (const [i, raw] of [text, random, small].entries()) {
        expect(store.lookup(infos[i]!.id)).toEqual(infos[i]);
        expect(store.readByRid(infos[i]!.rid).equals(raw)).toBe(true);
      }
      store.close();
    });

    it('keeps a chunk once however often it is put', () => {
      const { dir, db } = newEnv();
      const store = target.open({ db, dir });
      const c = chunkOf(text);
      const a = store.put(c);
      const b = store.put(c);
      expect(b.rid).toBe(a.rid);
      store.sync();
      db.transaction(() => store.persist())();
      expect(store.put(c).rid).toBe(a.rid);
      expect(store.totals()).toEqual({ chunks: 1, rawBytes: text.length, storedBytes: c.encoded.data.length });
      expect(db.prepare('SELECT count(*) FROM chunks').pluck().get()).toBe(1);
      store.close();
    });

    it('claims a chunk it put for the first object that references it, committed or not, and never one it did not put', () => {
      const { dir, db } = newEnv();
      const store = target.open({ db, dir });
      const put = store.put(chunkOf(text));
      expect(store.claim([store.lookup(put.id)!])).toBe(true); // put here, referenced by nothing yet
      expect(store.claim([store.lookup(put.id)!])).toBe(false); // the second object
      const other = store.put(chunkOf(random));
      // One unclaimed chunk is enough; both are claimed after.
      expect(store.claim([store.lookup(put.id)!, store.lookup(other.id)!])).toBe(true);
      expect(store.claim([store.lookup(other.id)!])).toBe(false);
      const third = store.put(chunkOf(small));
      store.sync();
      db.transaction(() => store.persist())();
      store.settle();
      // Committed, and still referenced by nothing: this process is the only writer.
      expect(store.claim([store.lookup(third.id)!])).toBe(true);
      expect(store.claim([store.lookup(third.id)!])).toBe(false);
      store.close();
      // Put by an earlier process: some stored object may reference it, so it proves nothing.
      const again = target.open({ db, dir });
      const fourth = again.put(chunkOf(random));
      expect(fourth.rid).toBe(other.rid);
      expect(again.claim([again.lookup(fourth.id)!])).toBe(false);
      again.close();
    });

    it('keeps persisted chunks across a reopen and drops the ones never persisted', () => {
      const env = newEnv();
      let store = target.open({ db: env.db, dir: env.dir });
      const kept = store.put(chunkOf(text));
      store.sync();
      env.db.transaction(() => store.persist())();
      const lost = store.put(chunkOf(random));
      store.sync();
      store.close();
      env.db.close();

      const db = openDb(env.dbFile);
      store = target.open({ db, dir: env.dir });
      expect(store.lookup(kept.id)).toEqual(kept);
      expect(store.read(kept.id).equals(text)).toBe(true);
      expect(store.lookup(lost.id)).toBeUndefined();
      expect(() => store.read(lost.id)).toThrow(named('ChunkMissingError'));
      expect(store.totals()).toEqual({ chunks: 1, rawBytes: text.length, storedBytes: kept.storedLength });
      expect(store.check()).toEqual([]);
      // The lost chunk can be stored again, and survives this time.
      const again = store.put(chunkOf(random));
      store.sync();
      db.transaction(() => store.persist())();
      expect(store.read(again.id).equals(random)).toBe(true);
      store.close();
    });

    it('indexes chunks again when the transaction that persisted them rolls back', () => {
      const env = newEnv();
      let store = target.open({ db: env.db, dir: env.dir });
      const c = store.put(chunkOf(text));
      store.sync();
      expect(() =>
        env.db.transaction(() => {
          store.persist();
          throw new Error('archive commit failed');
        })(),
      ).toThrow('archive commit failed');
      expect(env.db.prepare('SELECT count(*) FROM chunks').pluck().get()).toBe(0);
      // The next transaction, begun before anything else touched the store, indexes it again.
      env.db.transaction(() => {
        store.persist();
        expect(store.lookup(c.id)).toEqual(c);
      })();
      expect(env.db.prepare('SELECT count(*) FROM chunks').pluck().get()).toBe(1);
      expect(store.read(c.id).equals(text)).toBe(true);
      store.close();
      env.db.close();
      const db = openDb(env.dbFile);
      store = target.open({ db, dir: env.dir });
      expect(store.readByRid(c.rid).equals(text)).toBe(true);
      store.close();
    });

    it('reports a flipped stored byte as corruption naming the chunk', () => {
      const { dir, db } = newEnv();
      const store = target.open({ db, dir });
      const good = store.put(chunkOf(text));
      const bad = store.put(chunkOf(random));
      const badZstd = store.put(chunkOf(textBytes(30_000, 13)));
      store.sync();
      db.transaction(() => store.persist())();
      target.corrupt({ dir, db }, bad);
      target.corrupt({ dir, db }, badZstd);
      const hex = bad.id.toString('hex');
      expect(() => store.read(bad.id)).toThrow(
        expect.objectContaining({ name: 'ChunkCorruptError', code: 'ERR_CHUNK_CORRUPT', chunkId: hex }),
      );
      expect(() => store.read(bad.id)).toThrow(hex);
      expect(() => store.readByRid(badZstd.rid)).toThrow(named('ChunkCorruptError'));
      expect(store.read(good.id).equals(text)).toBe(true);
      const progress: number[] = [];
      const problems = store.check((done, total) => progress.push(done, total));
      expect(problems.map((p) => [p.id, p.problem]).sort()).toEqual(
        [
          [hex, 'corrupt'],
          [badZstd.id.toString('hex'), 'corrupt'],
        ].sort(),
      );
      expect(progress.slice(-2)).toEqual([3, 3]);
      store.close();
    });

    it('notices a chunk whose bytes do not hash to the id it was put under', () => {
      const { dir, db } = newEnv();
      const store = target.open({ db, dir });
      const liar = { ...chunkOf(text), id: createHash('sha256').update('something else').digest() };
      store.put(liar);
      expect(() => store.read(liar.id)).toThrow(named('ChunkCorruptError'));
      expect(store.check()).toEqual([expect.objectContaining({ id: liar.id.toString('hex'), problem: 'corrupt' })]);
      store.close();
    });

    it('looks up the chunks it put from memory once their rows committed, and others in the database', () => {
      const { dir, db } = newEnv();
      const store = target.open({ db, dir });
      const mine = [text, randomBytesSeeded(3000, 7), Buffer.from('three')].map((raw) => store.put(chunkOf(raw)));
      store.sync();
      db.transaction(() => store.persist())();
      const row = db.prepare<[Buffer], { rid: number; stored_len: number }>(
        'SELECT rid, stored_len FROM chunks WHERE id = ?',
      );
      const rows = mine.map((c) => row.get(c.id)!);
      // Committed: what it remembers is what the rows say.
      mine.forEach((c, i) =>
        expect(store.lookup(c.id)).toMatchObject({ rid: rows[i]!.rid, storedLength: rows[i]!.stored_len }),
      );
      // And it asks no query for them: rows taken away behind its back are still found.
      db.prepare('DELETE FROM chunks').run();
      mine.forEach((c, i) => expect(store.lookup(c.id)?.rid).toBe(rows[i]!.rid));
      // A chunk another handle put is found in the database only.
      const other = target.open({ db, dir });
      const theirs = other.put(chunkOf(Buffer.from('theirs')));
      other.sync();
      db.transaction(() => other.persist())();
      expect(store.lookup(theirs.id)?.rid).toBe(row.get(theirs.id)!.rid);
      db.prepare('DELETE FROM chunks WHERE id = ?').run(theirs.id);
      expect(store.lookup(theirs.id)).toBeUndefined();
      other.close();
      store.close();
    });

    it('reports unknown and vanished chunks as missing', () => {
      const { dir, db } = newEnv();
      const store = target.open({ db, dir });
      const unknown = createHash('sha256').update('never stored').digest();
      expect(store.lookup(unknown)).toBeUndefined();
      expect(() => store.read(unknown)).toThrow(
        expect.objectContaining({
          name: 'ChunkMissingError',
          code: 'ERR_CHUNK_MISSING',
          chunkId: unknown.toString('hex'),
        }),
      );
      expect(() => store.readByRid(9999)).toThrow(named('ChunkMissingError'));
      const c = store.put(chunkOf(text));
      store.sync();
      db.transaction(() => store.persist())();
      target.remove({ dir, db }, c);
      expect(() => store.read(c.id)).toThrow(named('ChunkMissingError'));
      expect(store.check()).toEqual([expect.objectContaining({ id: c.id.toString('hex'), problem: 'missing' })]);
      store.close();
    });

    it('lets a read-only handle read committed chunks while the writer goes on', () => {
      const env = newEnv();
      const writer = target.open({ db: env.db, dir: env.dir });
      const a = writer.put(chunkOf(text));
      writer.sync();
      env.db.transaction(() => writer.persist())();

      const rdb = openDb(env.dbFile, { readonly: true });
      const reader = target.open({ db: rdb, dir: env.dir, readonly: true });
      expect(reader.read(a.id).equals(text)).toBe(true);

      const b = writer.put(chunkOf(random));
      writer.sync();
      expect(reader.lookup(b.id)).toBeUndefined();
      env.db.transaction(() => writer.persist())();
      expect(reader.lookup(b.id)).toEqual(b);
      expect(reader.readByRid(b.rid).equals(random)).toBe(true);

      // Bytes written but not committed stay invisible; the writer keeps appending meanwhile.
      const many = Array.from({ length: 20 }, (_, i) => writer.put(chunkOf(textBytes(40_000, 100 + i))));
      expect(reader.lookup(many[0]!.id)).toBeUndefined();
      expect(reader.read(a.id).equals(text)).toBe(true);
      expect(reader.totals().chunks).toBe(2);
      expect(reader.check()).toEqual([]);
      expect(() => reader.put(chunkOf(small))).toThrow(named('ChunkStoreReadonlyError'));
      expect(() => reader.persist()).toThrow(named('ChunkStoreReadonlyError'));
      writer.sync();
      env.db.transaction(() => writer.persist())();
      expect(reader.read(many[19]!.id).equals(textBytes(40_000, 119))).toBe(true);
      reader.close();
      rdb.close();
      writer.close();
    });

    it('makes chunks durable with syncAsync while more are put', async () => {
      const env = newEnv();
      let store = target.open({ db: env.db, dir: env.dir });
      const a = store.put(chunkOf(text));
      const syncing = store.syncAsync();
      const b = store.put(chunkOf(random)); // put while the background sync runs
      await syncing;
      store.sync();
      env.db.transaction(() => store.persist())();
      store.close();
      env.db.close();
      const db = openDb(env.dbFile);
      store = target.open({ db, dir: env.dir });
      expect(store.read(a.id).equals(text)).toBe(true);
      expect(store.read(b.id).equals(random)).toBe(true);
      const reader = target.open({ db, dir: env.dir, readonly: true });
      await expect(reader.syncAsync()).rejects.toMatchObject({ name: 'ChunkStoreReadonlyError' });
      store.close();
    });

    it('totals raw and stored bytes of every chunk once', () => {
      const { dir, db } = newEnv();
      const store = target.open({ db, dir });
      expect(store.totals()).toEqual({ chunks: 0, rawBytes: 0, storedBytes: 0 });
      const cs = [text, random, small].map(chunkOf);
      for (const c of cs) store.put(c);
      store.put(cs[0]!);
      const want = {
        chunks: 3,
        rawBytes: text.length + random.length + small.length,
        storedBytes: cs.reduce((n, c) => n + c.encoded.data.length, 0),
      };
      expect(store.totals()).toEqual(want);
      store.sync();
      db.transaction(() => store.persist())();
      expect(store.totals()).toEqual(want);
      expect(want.storedBytes).toBeLessThan(want.rawBytes);
      store.close();
    });
  });
}
