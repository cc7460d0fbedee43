import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  GEAR,
  GEAR_SEED,
  GearChunker,
  chunkBoundaries,
  describeChunker,
  type ChunkerParams,
} from '../../../main/store/index.js';
import { seeded } from '../../helpers/tmp.js';
import { lengthsOf, randomBytesSeeded } from './fixtures.js';

const P: ChunkerParams = { min: 2048, avg: 8192, max: 32768 };
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** The chunk ids of `data` cut at `cuts`. */
function chunkIds(data: Buffer, cuts: number[]): string[] {
  return cuts.map((end, i) => sha(data.subarray(i === 0 ? 0 : cuts[i - 1], end)));
}

function streamed(data: Buffer, params: ChunkerParams, splits: number[]): number[] {
  const c = new GearChunker(params);
  const cuts: number[] = [];
  let at = 0;
  for (const s of [...splits, data.length]) {
    cuts.push(...c.push(data.subarray(at, s)));
    at = s;
  }
  cuts.push(...c.finish());
  return cuts;
}

describe('gear chunker', () => {
  const data = randomBytesSeeded(4 * 2 ** 20, 1);

  it('derives its gear table from SHA-256 of the documented seed, and it never changes', () => {
    for (const i of [0, 1, 128, 255])
      expect(GEAR[i]! >>> 0).toBe(createHash('sha256').update(`${GEAR_SEED}${i}`).digest().readUInt32BE(0));
    // Pinned: any change to the table or the cut rule changes every archive's chunk ids.
    expect(GEAR[0]! >>> 0).toBe(2031784303);
    const cuts = chunkBoundaries(randomBytesSeeded(2 ** 20, 42), P);
    expect(cuts.length).toBe(111);
    expect(cuts.slice(0, 8)).toEqual([8660, 12878, 21972, 31752, 40447, 46597, 53215, 67274]);
    expect(describeChunker(P)).toBe('gear-cdc/1 min=2048 avg=8192 max=32768');
  });

  it('is deterministic and covers the input exactly', () => {
    const a = chunkBoundaries(data, P);
    const b = chunkBoundaries(Buffer.from(data), P);
    expect(a).toEqual(b);
    expect(a.at(-1)).toBe(data.length);
    expect(a.every((c, i) => i === 0 || c > a[i - 1]!)).toBe(true);
  });

  it('cuts a stream fed in random pieces exactly as the whole input at once', () => {
    const whole = chunkBoundaries(data, P);
    const rnd = seeded(7);
    for (let round = 0; round < 20; round++) {
      const n = 1 + Math.floor(rnd() * 200);
      const splits = Array.from({ length: n }, () => Math.floor(rnd() * data.length)).sort((x, y) => x - y);
      expect(streamed(data, P, splits)).toEqual(whole);
    }
  });

  it('handles one-byte pushes and empty pushes', () => {
    const small = data.subarray(0, 200_000);
    const splits = Array.from({ length: small.length }, (_, i) => i);
    splits.splice(500, 0, 500, 500); // two empty pushes
    expect(streamed(small, P, splits)).toEqual(chunkBoundaries(small, P));
  });

  it('respects min and max, and averages near avg on random data', () => {
    for (const avg of [4096, 16384, 65536]) {
      const p = { min: avg / 4, avg, max: avg * 4 };
      const lengths = lengthsOf(chunkBoundaries(data, p));
      const inner = lengths.slice(0, -1);
      expect(Math.min(...inner)).toBeGreaterThan(p.min);
      expect(Math.max(...lengths)).toBeLessThanOrEqual(p.max);
      const mean = data.length / lengths.length;
      expect(mean).toBeGreaterThan(avg * 0.9);
      expect(mean).toBeLessThan(avg * 1.4);
    }
  });

  it('cuts featureless data at max', () => {
    const zeros = Buffer.alloc(P.max * 5 + 100);
    expect(lengthsOf(chunkBoundaries(zeros, P))).toEqual([P.max, P.max, P.max, P.max, P.max, 100]);
  });

  it('returns no chunk for empty input and one short chunk for tiny input', () => {
    expect(chunkBoundaries(Buffer.alloc(0), P)).toEqual([]);
    expect(chunkBoundaries(data.subarray(0, 100), P)).toEqual([100]);
  });

  it('changes only one or two chunks when one byte changes', () => {
    const before = chunkIds(data, chunkBoundaries(data, P));
    const rnd = seeded(3);
    for (let round = 0; round < 10; round++) {
      const edited = Buffer.from(data);
      const at = Math.floor(rnd() * data.length);
      edited[at] = edited[at]! ^ 0x5a;
      const after = chunkIds(edited, chunkBoundaries(edited, P));
      const old = new Set(before);
      const fresh = after.filter((id) => !old.has(id));
      expect(fresh.length).toBeGreaterThanOrEqual(1);
      expect(fresh.length).toBeLessThanOrEqual(2);
    }
  });

  it('re-synchronises after bytes are inserted or deleted', () => {
    const before = chunkIds(data, chunkBoundaries(data, P));
    const inserted = Buffer.concat([data.subarray(0, 100_000), randomBytesSeeded(777, 9), data.subarray(100_000)]);
    const deleted = Buffer.concat([data.subarray(0, 2_000_000), data.subarray(2_000_013)]);
    for (const edited of [inserted, deleted]) {
      const after = chunkIds(edited, chunkBoundaries(edited, P));
      const old = new Set(before);
      const fresh = after.filter((id) => !old.has(id));
      expect(fresh.length).toBeLessThanOrEqual(3);
      expect(after.length - fresh.length).toBeGreaterThan(before.length - 4);
    }
  });

  it('rejects impossible parameters with a stable error', () => {
    for (const p of [
      { min: 0, avg: 8192, max: 32768 },
      { min: 8192, avg: 4096, max: 32768 },
      { min: 2048, avg: 8192, max: 4096 },
      { min: 2048.5, avg: 8192, max: 32768 },
    ])
      expect(() => new GearChunker(p)).toThrow(
        expect.objectContaining({ name: 'ChunkerParamsError', code: 'ERR_CHUNKER_PARAMS' }),
      );
  });
});
