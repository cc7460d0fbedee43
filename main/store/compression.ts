import { createRequire } from 'node:module';
import type { CCtx, DCtx } from 'zstd-napi/binding.js';
import { Codec } from './types.js';

type Binding = typeof import('zstd-napi/binding.js');
const require = createRequire(import.meta.url);
let loaded: Binding | undefined;

/**
 * zstd's native binding, loaded at first use: ~30 ms of every CLI command's start otherwise, and
 * storing never needs it on the main thread (the ingest workers compress), nor does `ls` or `stats`.
 */
function zstd(): Binding {
  return (loaded ??= require('zstd-napi/binding.js') as Binding);
}

/**
 * Chunk encoding: zstd unless it does not pay. We use zstd-napi's thin binding (one reusable
 * compression context per encoder, the same object the high-level `Compressor` wraps) so a worker
 * can compress straight into its outgoing batch buffer, and decompress into a buffer of the
 * length the index recorded — a corrupt frame header cannot make us allocate what it claims.
 */

/**
 * A chunk is stored raw unless zstd shrinks it below this fraction of its raw size: saving under 3%
 * is not worth a decompression on every read (and random or already-compressed data lands here).
 */
export const RAW_THRESHOLD = 0.97;

export class ChunkDecodeError extends Error {
  override readonly name = 'ChunkDecodeError';
  readonly code = 'ERR_CHUNK_DECODE';
}

/** An encoded chunk: how it is stored and its stored bytes. */
export interface EncodedChunk {
  readonly codec: Codec;
  readonly data: Buffer;
}

/**
 * zstd table sizes (log2 of entries) for levels whose own are sized for longer inputs than a worker
 * compresses — at most a group of ~1 MiB or one chunk (1 MiB by default). Over the bench corpus,
 * cut as the workers cut it, 2^16 hash and 2^14 chain entries took 10 % less zstd time than level
 * 3's own (2^17 and 2^16, 768 KiB, cleared before every frame) for 0.4 % more bytes (184.82 →
 * 185.57 MB); two builds storing the corpus at once, 2–4 % less CPU per store
 * (docs/BENCHMARKS.md, run AD). Levels not listed keep zstd's own tables.
 */
export const ZSTD_TABLES: Readonly<Partial<Record<number, { readonly hashLog: number; readonly chainLog: number }>>> = {
  3: { hashLog: 16, chainLog: 14 },
};

/** Compresses chunks at one zstd level, reusing one native context (not thread-safe: one per thread). */
export class ChunkEncoder {
  readonly level: number;
  readonly #cctx: CCtx;

  constructor(level: number) {
    const z = zstd();
    if (!Number.isInteger(level) || level < z.minCLevel() || level > z.maxCLevel())
      throw new RangeError(`zstd level ${level} is out of range`);
    this.level = level;
    this.#cctx = new z.CCtx();
    this.#cctx.setParameter(z.CParameter.compressionLevel, level);
    // SHA-256 of the raw bytes already guards every read; a zstd checksum would only cost time.
    this.#cctx.setParameter(z.CParameter.checksumFlag, 0);
    const tables = ZSTD_TABLES[level];
    if (tables) {
      this.#cctx.setParameter(z.CParameter.hashLog, tables.hashLog);
      this.#cctx.setParameter(z.CParameter.chainLog, tables.chainLog);
    }
  }

  /** Bytes `encodeInto` may need for a chunk of `rawLength` bytes. */
  static bound(rawLength: number): number {
    return zstd().compressBound(rawLength);
  }

  /**
   * Encodes `raw` into `dest` (which must hold `ChunkEncoder.bound(raw.length)` bytes); returns the
   * codec and the number of bytes written.
   */
  encodeInto(raw: Uint8Array, dest: Uint8Array): { codec: Codec; length: number } {
    if (raw.length > 0) {
      const n = this.#cctx.compress2(dest, raw);
      if (n < raw.length * RAW_THRESHOLD) return { codec: Codec.Zstd, length: n };
    }
    dest.set(raw);
    return { codec: Codec.Raw, length: raw.length };
  }

  /**
   * Compresses a group (always zstd: it mixes many files, and one that would not compress costs
   * zstd a few bytes of block headers) into `dest` (`ChunkEncoder.bound(raw.length)` bytes long);
   * returns the frame's length.
   */
  frameInto(raw: Uint8Array, dest: Uint8Array): number {
    return this.#cctx.compress2(dest, raw);
  }

  /** Encodes `raw` into a new buffer of exactly the stored size. */
  encode(raw: Uint8Array): EncodedChunk {
    const scratch = Buffer.allocUnsafeSlow(ChunkEncoder.bound(raw.length));
    const { codec, length } = this.encodeInto(raw, scratch);
    return { codec, data: Buffer.from(scratch.subarray(0, length)) };
  }
}

let sharedDctx: DCtx | undefined;

/**
 * Decodes stored bytes to exactly `rawLength` bytes; throws ChunkDecodeError when the bytes are not
 * a valid encoding of that length. Raw chunks are returned as is (no copy).
 */
export function decodeChunk(codec: Codec, data: Buffer, rawLength: number): Buffer {
  switch (codec) {
    case Codec.Raw:
      if (data.length !== rawLength)
        throw new ChunkDecodeError(`raw chunk has ${data.length} bytes, expected ${rawLength}`);
      return data;
    case Codec.Zstd:
      return decodeFrame(data, rawLength);
    case Codec.Grouped:
      throw new ChunkDecodeError('a grouped chunk is decoded with its group (decodeFrame)');
    default:
      throw new ChunkDecodeError(`unknown codec ${String(codec satisfies never)}`);
  }
}

/** Decompresses one zstd frame to exactly `rawLength` bytes; throws ChunkDecodeError otherwise. */
export function decodeFrame(data: Buffer, rawLength: number): Buffer {
  sharedDctx ??= new (zstd().DCtx)();
  const out = Buffer.allocUnsafe(rawLength);
  let n: number;
  try {
    n = sharedDctx.decompress(out, data);
  } catch (e) {
    throw new ChunkDecodeError(`zstd: ${(e as Error).message}`, { cause: e });
  }
  if (n !== rawLength) throw new ChunkDecodeError(`zstd frame holds ${n} bytes, expected ${rawLength}`);
  return out;
}
