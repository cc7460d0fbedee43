import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { ZSTD_TABLES } from '../../../main/store/compression.js';
import { ChunkEncoder, Codec, RAW_THRESHOLD, decodeChunk } from '../../../main/store/index.js';
import { randomBytesSeeded, textBytes } from './fixtures.js';

describe('chunk compression', () => {
  const enc = new ChunkEncoder(3);

  it('compresses compressible data with zstd and decodes it back', () => {
    const raw = textBytes(200_000, 1);
    const e = enc.encode(raw);
    expect(e.codec).toBe(Codec.Zstd);
    expect(e.data.length).toBeLessThan(raw.length / 2);
    expect(decodeChunk(e.codec, e.data, raw.length).equals(raw)).toBe(true);
  });

  it('stores random data raw', () => {
    const raw = randomBytes(100_000);
    const e = enc.encode(raw);
    expect(e.codec).toBe(Codec.Raw);
    expect(e.data.equals(raw)).toBe(true);
    expect(decodeChunk(e.codec, e.data, raw.length).equals(raw)).toBe(true);
  });

  it(`keeps zstd only when it saves more than ${Math.round((1 - RAW_THRESHOLD) * 100)}%`, () => {
    const mostlyRandom = Buffer.concat([randomBytesSeeded(98_500, 2), Buffer.alloc(1_500)]); // saves ~1.5%
    const someZeros = Buffer.concat([randomBytesSeeded(90_000, 3), Buffer.alloc(10_000)]); // saves ~10%
    expect(enc.encode(mostlyRandom).codec).toBe(Codec.Raw);
    const z = enc.encode(someZeros);
    expect(z.codec).toBe(Codec.Zstd);
    expect(decodeChunk(z.codec, z.data, someZeros.length).equals(someZeros)).toBe(true);
  });

  it('encodes into a caller buffer exactly as encode does', () => {
    const raw = textBytes(50_000, 4);
    const dest = Buffer.alloc(ChunkEncoder.bound(raw.length));
    const r = enc.encodeInto(raw, dest);
    const e = enc.encode(raw);
    expect(r.codec).toBe(e.codec);
    expect(dest.subarray(0, r.length).equals(e.data)).toBe(true);
  });

  it('round-trips an empty chunk as raw', () => {
    const e = enc.encode(Buffer.alloc(0));
    expect(e.codec).toBe(Codec.Raw);
    expect(decodeChunk(e.codec, e.data, 0).length).toBe(0);
  });

  it('rejects bytes that do not decode to the recorded length', () => {
    const raw = textBytes(20_000, 5);
    const e = enc.encode(raw);
    const err = { name: 'ChunkDecodeError', code: 'ERR_CHUNK_DECODE' };
    expect(() => decodeChunk(e.codec, e.data, raw.length - 1)).toThrow(expect.objectContaining(err));
    expect(() => decodeChunk(e.codec, e.data.subarray(0, e.data.length - 3), raw.length)).toThrow(
      expect.objectContaining(err),
    );
    expect(() => decodeChunk(Codec.Raw, raw, raw.length + 1)).toThrow(expect.objectContaining(err));
  });

  it("compresses at level 3 with its tuned tables, at other levels with zstd's own", () => {
    const z = createRequire(import.meta.url)('zstd-napi/binding.js') as typeof import('zstd-napi/binding.js');
    /** A frame from a fresh context at `level`, with `tables` if given. */
    const frame = (raw: Uint8Array, level: number, tables?: { hashLog: number; chainLog: number }): Buffer => {
      const c = new z.CCtx();
      c.setParameter(z.CParameter.compressionLevel, level);
      c.setParameter(z.CParameter.checksumFlag, 0);
      if (tables) {
        c.setParameter(z.CParameter.hashLog, tables.hashLog);
        c.setParameter(z.CParameter.chainLog, tables.chainLog);
      }
      const out = Buffer.alloc(z.compressBound(raw.length));
      return out.subarray(0, c.compress2(out, raw));
    };
    const encoded = (e: ChunkEncoder, raw: Uint8Array): Buffer => {
      const dest = Buffer.alloc(ChunkEncoder.bound(raw.length));
      return dest.subarray(0, e.frameInto(raw, dest));
    };
    const raw = textBytes(1 << 20, 6); // a group's worth: level 3's own tables would be bigger
    expect(ZSTD_TABLES[3]).toEqual({ hashLog: 16, chainLog: 14 });
    const tuned = encoded(enc, raw);
    expect(tuned.equals(frame(raw, 3, ZSTD_TABLES[3]))).toBe(true);
    const own = frame(raw, 3);
    expect(tuned.equals(own)).toBe(false);
    // The smaller tables cost little: within 2 % of zstd's own level 3.
    expect(tuned.length).toBeLessThan(own.length * 1.02);
    expect(decodeChunk(Codec.Zstd, tuned, raw.length).equals(raw)).toBe(true);
    // A level without an entry is zstd's own.
    expect(ZSTD_TABLES[5]).toBeUndefined();
    expect(encoded(new ChunkEncoder(5), raw).equals(frame(raw, 5))).toBe(true);
  });

  it('rejects an out-of-range level', () => {
    expect(() => new ChunkEncoder(99)).toThrow(RangeError);
  });
});
