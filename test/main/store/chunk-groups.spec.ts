import { createHash } from 'node:crypto';
import {
  closeSync,
  mkdtempSync,
  readdirSync,
  openSync,
  readSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDb } from '../../../main/db/database.js';
import {
  ChunkEncoder,
  Codec,
  GROUP_CHUNK_MAX,
  createChunkStore,
  createIngestPool,
  type ChunkerParams,
  type IngestedChunk,
  type IngestPool,
  type SealedGroup,
} from '../../../main/store/index.js';
import { chunkOf, newEnv } from './chunk-store-compliance.js';
import { groupOf, randomBytesSeeded, textBytes } from './fixtures.js';

const sha = (b: Uint8Array): Buffer => createHash('sha256').update(b).digest();
const encoder = new ChunkEncoder(3);

type Located = { pack: number; offset: number; frame: { len: number } | null };

describe('chunk groups in a pack store', () => {
  const smalls = Array.from({ length: 40 }, (_, i) => textBytes(2000 + 97 * i, 100 + i));

  it('stores a group as one frame, reads each member back, and shares the frame between them', () => {
    const env = newEnv();
    const store = createChunkStore('pack', { db: env.db, dir: env.dir });
    expect(store.groups).toBe(true);
    const g = groupOf(smalls);
    store.putGroup(g);
    const infos = smalls.map((s) => store.lookup(sha(s))!);
    expect(infos.every((i) => i.codec === Codec.Grouped)).toBe(true);
    // The shares add up to the frame exactly, and the group beats compressing each alone.
    expect(infos.reduce((n, i) => n + i.storedLength, 0)).toBe(g.frame.length);
    const alone = smalls.reduce((n, s) => n + encoder.encode(s).data.length, 0);
    expect(g.frame.length).toBeLessThan(alone * 0.9);
    smalls.forEach((s) => expect(store.read(sha(s)).equals(s)).toBe(true));

    store.sync();
    env.db.transaction(() => store.persist())();
    store.close();
    const size = env.db.prepare<[], number>('SELECT size FROM packs').pluck().get();
    expect(size).toBe(g.frame.length);

    // A reader in another connection finds every member from its row alone.
    const rdb = openDb(env.dbFile, { readonly: true });
    const reader = createChunkStore('pack', { db: rdb, dir: env.dir, readonly: true });
    smalls.forEach((s) => expect(reader.read(sha(s)).equals(s)).toBe(true));
    expect(reader.totals()).toEqual({
      chunks: smalls.length,
      rawBytes: g.rawLength,
      storedBytes: g.frame.length,
    });
    expect(reader.check()).toEqual([]);
    reader.close();
  });

  it('keeps a member already stored under its old row, and gives its share to the others', () => {
    const env = newEnv();
    const store = createChunkStore('pack', { db: env.db, dir: env.dir });
    const old = store.put(chunkOf(smalls[3]!));
    const g = groupOf(smalls.slice(0, 10));
    store.putGroup(g);
    expect(store.lookup(sha(smalls[3]!))).toEqual(old);
    const grouped = smalls
      .slice(0, 10)
      .filter((_, i) => i !== 3)
      .map((s) => store.lookup(sha(s))!);
    expect(grouped.reduce((n, i) => n + i.storedLength, 0)).toBe(g.frame.length);
    // A group whose members are all known already writes nothing.
    const before = store.totals();
    store.putGroup(groupOf(smalls.slice(0, 10)));
    expect(store.totals()).toEqual(before);
    store.sync();
    env.db.transaction(() => store.persist())();
    const packBytes = statSync(join(env.dir, 'packs', '1.pack')).size;
    expect(packBytes).toBe(old.storedLength + g.frame.length);
    store.close();
  });

  it('refuses a member outside its group, or a grouped chunk alone, and changes nothing', () => {
    const env = newEnv();
    const store = createChunkStore('pack', { db: env.db, dir: env.dir });
    const g = groupOf(smalls.slice(0, 3));
    const bad: SealedGroup = {
      ...g,
      members: [...g.members, { id: sha(Buffer.from('x')), rawLength: 10, at: g.rawLength - 5 }],
    };
    expect(() => store.putGroup(bad)).toThrow(/member 3 .* outside the group/);
    expect(store.totals().chunks).toBe(0);
    expect(store.lookup(g.members[0]!.id)).toBeUndefined();
    // A grouped chunk offered alone is refused before anything is written.
    const raw = smalls[0]!;
    expect(() =>
      store.put({ id: sha(raw), rawLength: raw.length, encoded: { codec: Codec.Grouped, data: raw } }),
    ).toThrow(/stored with its group/);
    expect(store.totals().chunks).toBe(0);
    store.sync();
    expect(statSync(join(env.dir, 'packs')).isDirectory()).toBe(true);
    expect(readdirSync(join(env.dir, 'packs'))).toEqual([]);
    store.close();
  });

  it('a flipped byte in a frame makes every member of the group unreadable, by name, and check lists them', () => {
    const env = newEnv();
    const store = createChunkStore('pack', { db: env.db, dir: env.dir });
    const lone = store.put(chunkOf(textBytes(70_000, 9)));
    const g = groupOf(smalls.slice(0, 12));
    store.putGroup(g);
    store.sync();
    env.db.transaction(() => store.persist())();
    store.close();
    const at = (store.lookup(g.members[0]!.id) as unknown as Located).offset + Math.floor(g.frame.length / 2);
    const fd = openSync(join(env.dir, 'packs', '1.pack'), 'r+');
    const b = Buffer.alloc(1);
    readSync(fd, b, 0, 1, at);
    b[0] = b[0]! ^ 0x5a;
    writeSync(fd, b, 0, 1, at);
    closeSync(fd);

    const reopened = createChunkStore('pack', {
      db: openDb(env.dbFile, { readonly: true }),
      dir: env.dir,
      readonly: true,
    });
    // The frame still decodes (zstd keeps no checksum here: SHA-256 guards each chunk), so the byte
    // spoils the member(s) it lands in; each of those is refused by name, the others still verify.
    const problems = reopened.check();
    expect(problems.length).toBeGreaterThan(0);
    const hit = new Set(problems.map((p) => p.id));
    expect(problems.every((p) => p.problem === 'corrupt')).toBe(true);
    for (const m of g.members) {
      const hex = m.id.toString('hex');
      if (hit.has(hex))
        expect(() => reopened.read(m.id)).toThrow(expect.objectContaining({ name: 'ChunkCorruptError', chunkId: hex }));
      else expect(sha(reopened.read(m.id)).equals(m.id)).toBe(true);
    }
    expect([...hit].every((h) => g.members.some((m) => m.id.toString('hex') === h))).toBe(true);
    expect(reopened.read(lone.id).length).toBe(70_000);

    // A frame cut short is missing bytes for every member.
    truncateSync(join(env.dir, 'packs', '1.pack'), (store.lookup(g.members[0]!.id) as unknown as Located).offset + 10);
    const cut = createChunkStore('pack', { db: openDb(env.dbFile, { readonly: true }), dir: env.dir, readonly: true });
    expect(cut.check().filter((p) => p.problem === 'missing')).toHaveLength(g.members.length);
  });

  it('an inline (sqlite) store takes no groups', () => {
    const env = newEnv();
    const store = createChunkStore('sqlite', { db: env.db, dir: env.dir });
    expect(store.groups).toBe(false);
    expect(() => store.putGroup(groupOf(smalls.slice(0, 2)))).toThrow(/does not hold groups/);
    store.close();
  });
});

describe('ingest pool with groups', () => {
  const P: ChunkerParams = { min: 4096, avg: 16384, max: 65536 };
  const dir = mkdtempSync(join(tmpdir(), 'pakit-groups-'));
  const pools: IngestPool[] = [];
  afterAll(async () => {
    await Promise.all(pools.map((p) => p.close()));
    rmSync(dir, { recursive: true, force: true });
  });
  const start = (groupBytes: number, onGroup: (g: SealedGroup) => void, workers = 2, params = P): IngestPool => {
    const p = createIngestPool({ params, zstdLevel: 3, workers, groupBytes, onGroup });
    pools.push(p);
    return p;
  };

  it('puts new small chunks in groups, seals them when full and when idle, and settles each chunk after its group', async () => {
    const files = Array.from({ length: 60 }, (_, i) => {
      const path = join(dir, `f${i}.txt`);
      writeFileSync(path, textBytes(3000 + i * 13, i));
      return path;
    });
    const groups: SealedGroup[] = [];
    // The frame is a view of a buffer the worker gets back: keep a copy, as a chunk store writes it.
    const views: Buffer[] = [];
    const pool = start(32 * 1024, (g) => {
      views.push(g.frame);
      groups.push({ ...g, frame: Buffer.from(g.frame) });
    });
    const got: IngestedChunk[] = [];
    await Promise.all(files.map((f) => pool.ingestFile(f, (b) => void got.push(...b))));
    expect(got).toHaveLength(60);
    expect(got.every((c) => c.grouped !== undefined && c.encoded === undefined)).toBe(true);
    await Promise.all(got.map((c) => c.grouped));
    expect(views.every((v) => v.length === 0)).toBe(true); // handed back to their workers
    // Every chunk is in exactly one sealed group, at the place that holds its bytes.
    const members = new Map(groups.flatMap((g) => g.members.map((m) => [m.id.toString('hex'), { g, m }] as const)));
    expect(members.size).toBe(60);
    for (const c of got) {
      const { g, m } = members.get(c.id.toString('hex'))!;
      const raw = Buffer.alloc(g.rawLength);
      const { decodeFrame } = await import('../../../main/store/compression.js');
      decodeFrame(g.frame, g.rawLength).copy(raw);
      expect(sha(raw.subarray(m.at, m.at + m.rawLength)).equals(c.id)).toBe(true);
    }
    // Full groups reach the limit; at most one per worker was sealed early, when it went idle.
    const early = groups.filter((g) => g.rawLength < 32 * 1024);
    expect(early.length).toBeLessThanOrEqual(2);
    expect(groups.length).toBeGreaterThanOrEqual(5);
  });

  it('sends chunks of GROUP_CHUNK_MAX bytes or more encoded, as before', async () => {
    const path = join(dir, 'mixed.bin');
    const data = Buffer.concat([randomBytesSeeded(200_000, 1), textBytes(1000, 2)]);
    writeFileSync(path, data);
    const pool = start(1 << 20, () => {});
    const got: IngestedChunk[] = [];
    await pool.ingestFile(path, (b) => void got.push(...b));
    for (const c of got) expect(c.grouped !== undefined).toBe(c.rawLength < GROUP_CHUNK_MAX);
  });

  it('fails the chunks of a group lost with its crashed worker', async () => {
    const small = join(dir, 'one.txt');
    writeFileSync(small, textBytes(5000, 77));
    const large = join(dir, 'large.bin');
    writeFileSync(large, randomBytesSeeded(24 * 2 ** 20, 78));
    // One worker takes both files at once: the small file's group is still open (not full, and the
    // worker never idle) when the worker dies in the middle of the large one.
    const pool = start(1 << 20, () => {}, 1, { min: 65536, avg: 262144, max: 1048576 });
    const got: IngestedChunk[] = [];
    const first = pool.ingestFile(small, (b) => void got.push(...b));
    const second = pool.ingestFile(large, () => {
      (pool as unknown as { crashWorkerForTest(): void }).crashWorkerForTest();
      return new Promise((r) => setTimeout(r, 20));
    });
    await first;
    await expect(second).rejects.toMatchObject({ name: 'IngestWorkerCrashedError' });
    await expect(got[0]!.grouped).rejects.toMatchObject({ name: 'IngestWorkerCrashedError' });
  });

  it('does not keep a small file waiting behind a long input: an old group is sealed mid-input', async () => {
    const small = join(dir, 'before.txt');
    writeFileSync(small, textBytes(4000, 91));
    const long = join(dir, 'long.bin');
    writeFileSync(long, randomBytesSeeded(24 * 2 ** 20, 92));
    const pool = start(1 << 20, () => {}, 1, { min: 65536, avg: 262144, max: 1048576 });
    const got: IngestedChunk[] = [];
    // Both go to the one worker at once, so it is never idle (an idle worker seals at once).
    const before = pool.ingestFile(small, (b) => void got.push(...b));
    let longDone = false;
    const started = performance.now();
    const running = pool
      .ingestFile(long, () => new Promise((r) => setTimeout(r, 150))) // every batch is slow to be taken
      .then(() => (longDone = true));
    await before;
    await got[0]!.grouped;
    // Sealed about 250 ms in (the age limit), not when the long input ends (~2.4 s: 16 batches past
    // the worker's 8 MiB window, 150 ms each).
    expect(performance.now() - started).toBeLessThan(1500);
    expect(longDone).toBe(false);
    await running;
  });

  it('refuses a group size without a taker, or out of range', () => {
    expect(() => createIngestPool({ params: P, zstdLevel: 3, groupBytes: 1024 })).toThrow(/needs an onGroup/);
    expect(() => createIngestPool({ params: P, zstdLevel: 3, groupBytes: -1, onGroup: () => {} })).toThrow(
      /groupBytes -1/,
    );
  });
});
