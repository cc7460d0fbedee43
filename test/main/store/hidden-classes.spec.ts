import { createHash, randomBytes } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { createChunkStore, type ChunkInfo } from '../../../main/store/index.js';
import { decodeBatch, GROUPED, META_FIELDS, NO_CODEC } from '../../../main/store/ingest-protocol.js';
import type { StoredChunk } from '../../../main/store/verified-read.js';
import { chunkOf, newEnv } from './chunk-store-compliance.js';
import { groupOf, textBytes } from './fixtures.js';

// V8's own test of hidden classes (maps), compiled after the flag is set: two objects with the same
// map share the fast paths of every property read; objects made by spreading got a map each.
setFlagsFromString('--allow-natives-syntax');
const sameMap = new Function('a', 'b', 'return %HaveSameMap(a, b)') as (a: object, b: object) => boolean;

const sha = (b: Uint8Array): Buffer => createHash('sha256').update(b).digest();

describe('chunk records in memory', () => {
  it('share one hidden class, whether put alone, put in a group, or read back from the index', () => {
    const env = newEnv();
    const store = createChunkStore('pack', { db: env.db, dir: env.dir });
    const alone = [textBytes(50_000, 1), textBytes(60_000, 2)];
    const small = Array.from({ length: 6 }, (_, i) => textBytes(900 + 31 * i, 10 + i));
    const put = alone.map((raw) => store.put(chunkOf(raw)) as StoredChunk);
    store.putGroup(groupOf(small.slice(0, 3)));
    store.putGroup(groupOf(small.slice(3)));
    const grouped = small.map((raw) => store.lookup(sha(raw)) as StoredChunk);
    expect(grouped.every((c) => c.frame !== null)).toBe(true);

    const all: ChunkInfo[] = [...put, ...grouped];
    for (const c of all) expect(sameMap(c, put[0]!), `chunk ${c.rid}`).toBe(true);
    // Members of two groups: their frame places share a class too.
    for (const c of grouped) expect(sameMap(c.frame!, grouped[0]!.frame!)).toBe(true);

    // Committed and read back through the index (a fresh store on the same database).
    store.sync();
    env.db.transaction(() => store.persist())();
    store.settle();
    store.close();
    const again = createChunkStore('pack', { db: env.db, dir: env.dir });
    const read = [...alone, ...small].map((raw) => again.lookup(sha(raw)) as StoredChunk);
    for (const c of read) expect(sameMap(c, put[0]!)).toBe(true);
    expect(sameMap(read.at(-1)!.frame!, grouped[0]!.frame!)).toBe(true);
    again.close();
    env.db.close();
  });
});

describe('chunks decoded from an ingest worker’s batch', () => {
  it('share one hidden class, whether known, grouped or encoded', () => {
    const n = 3;
    const head = new ArrayBuffer(n * (32 + 4 * META_FIELDS));
    new Uint8Array(head).set(randomBytes(32 * n));
    // Per chunk: raw length, codec, then its bytes' place (or its group's token and place).
    new Int32Array(head, 32 * n, META_FIELDS * n).set([100, NO_CODEC, 0, 0, 200, GROUPED, 7, 0, 300, 1, 0, 5]);
    const chunks = decodeBatch({ t: 'batch', job: 1, head, data: new ArrayBuffer(16), count: n, rawBytes: 600 }, () =>
      Promise.resolve(),
    );
    expect(chunks.map((c) => [c.encoded?.data.length, c.grouped !== undefined])).toEqual([
      [undefined, false],
      [undefined, true],
      [5, false],
    ]);
    expect(sameMap(chunks[1]!, chunks[0]!)).toBe(true);
    expect(sameMap(chunks[2]!, chunks[0]!)).toBe(true);
  });
});
