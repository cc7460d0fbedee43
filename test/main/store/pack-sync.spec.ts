import { statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { createChunkStore, type ChunkInfo } from '../../../main/store/index.js';
import { chunkOf, newEnv } from './chunk-store-compliance.js';
import { randomBytesSeeded } from './fixtures.js';

// Which pack files were fdatasync'ed, by inode (descriptors are reused once closed): the real calls
// still run, this only records them.
const synced = vi.hoisted(() => [] as bigint[]);
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const inode = (fd: number): bigint => fs.fstatSync(fd, { bigint: true }).ino;
  return {
    ...fs,
    fdatasyncSync: (fd: number) => {
      synced.push(inode(fd));
      fs.fdatasyncSync(fd);
    },
    fdatasync: (fd: number, cb: (e: NodeJS.ErrnoException | null) => void) => {
      synced.push(inode(fd));
      fs.fdatasync(fd, cb);
    },
  };
});

type Located = ChunkInfo & { pack: number };
const packOf = (dir: string, pack: number): bigint =>
  statSync(join(dir, 'packs', `${pack}.pack`), { bigint: true }).ino;

describe('pack durability without stalls', () => {
  it('a full pack is not fdatasync’ed on the main thread when it rotates; the next sync covers every pack written', async () => {
    const env = newEnv();
    const store = createChunkStore('pack', { db: env.db, dir: env.dir, packSizeLimit: 100_000 });
    synced.length = 0;
    const infos = Array.from(
      { length: 12 },
      (_, i) => store.put(chunkOf(randomBytesSeeded(30_000, 40 + i))) as Located,
    );
    const packs = [...new Set(infos.map((i) => i.pack))];
    expect(packs.length).toBe(4);
    expect(synced).toEqual([]); // three rotations, no fdatasync yet

    await store.syncAsync();
    const want = packs.map((p) => packOf(env.dir, p)).sort();
    expect([...new Set(synced)].sort()).toEqual(want);

    // Nothing new: nothing to sync. Then one more rotation: the old pack and the new one, by sync().
    synced.length = 0;
    await store.syncAsync();
    store.sync();
    expect(synced).toEqual([]);
    const more = Array.from({ length: 4 }, (_, i) => store.put(chunkOf(randomBytesSeeded(30_000, 60 + i))) as Located);
    store.sync();
    const touched = [...new Set(more.map((i) => i.pack))].map((p) => packOf(env.dir, p)).sort();
    expect([...new Set(synced)].sort()).toEqual(touched);
    store.close();
  });
});
