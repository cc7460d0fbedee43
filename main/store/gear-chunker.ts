import { createHash } from 'node:crypto';
import type { ChunkerParams } from './types.js';

/**
 * Content-defined chunking, FastCDC-style ("gear-cdc/1" in docs/FORMATS.md). The cut points of an
 * archive are part of its format — chunk ids, dedup and content roots depend on them — so nothing
 * here may change without a new chunker name.
 *
 * Per chunk, from its first byte:
 * - the first `min` bytes are skipped unhashed (cut-point skipping: no cut can fall there);
 * - the gear hash starts at 0 and rolls over each following byte: h = ((h << 1) + GEAR[byte]) mod 2^32;
 * - before `avg` bytes a cut needs the top (b + 2) bits of h to be zero, from `avg` on only the top
 *   (b − 2) bits, where b = round(log2(avg)) (normalized chunking, level 2: sizes cluster around
 *   avg instead of spreading geometrically);
 * - the chunk ends after the byte whose hash matched, or at `max` bytes, or at the end of input.
 * The top bits are tested because in a gear hash bit k depends only on the last k + 1 bytes: the
 * top bits see a 32-byte window, the low bits almost nothing.
 */

/** Seed of the gear table: entry i is the first 4 bytes (big-endian) of SHA-256(`${GEAR_SEED}${i}`). */
export const GEAR_SEED = 'pakit/gear-cdc/1/';

/** The 256 gear values, stored as int32 (same bits as the uint32 values) so the hot loop stays int32. */
export const GEAR: Int32Array = (() => {
  const table = new Int32Array(256);
  for (let i = 0; i < 256; i++) table[i] = createHash('sha256').update(`${GEAR_SEED}${i}`).digest().readInt32BE(0);
  return table;
})();

export class ChunkerParamsError extends Error {
  override readonly name = 'ChunkerParamsError';
  readonly code = 'ERR_CHUNKER_PARAMS';
}

/** Throws ChunkerParamsError unless 64 ≤ min ≤ avg ≤ max ≤ 64 MiB and all are integers. */
export function validateChunkerParams(p: ChunkerParams): void {
  const { min, avg, max } = p;
  if (![min, avg, max].every(Number.isSafeInteger) || min < 64 || min > avg || avg > max || max > 64 * 2 ** 20)
    throw new ChunkerParamsError(`invalid chunker parameters min=${min} avg=${avg} max=${max}`);
}

/** The parameters as recorded in an archive's genesis (docs/FORMATS.md `chunker`). */
export function describeChunker(p: ChunkerParams): string {
  return `gear-cdc/1 min=${p.min} avg=${p.avg} max=${p.max}`;
}

/** A mask of the top `bits` bits of a 32-bit word, as int32. */
function topBits(bits: number): number {
  return bits <= 0 ? 0 : (~0 << (32 - Math.min(bits, 32))) | 0;
}

/**
 * Streaming chunker: feed successive buffers of any size with `push`, then call `finish`. It keeps
 * no bytes, only its position in the current chunk and the rolling hash, so the caller owns the
 * data; the cut points are exactly those of chunking the whole input at once.
 */
export class GearChunker {
  readonly #min: number;
  readonly #avg: number;
  readonly #max: number;
  readonly #maskStrict: number;
  readonly #maskLoose: number;
  /** Bytes of the stream consumed by earlier pushes. */
  #offset = 0;
  /** Bytes of the current (unfinished) chunk seen so far. */
  #pos = 0;
  #hash = 0;

  constructor(params: ChunkerParams) {
    validateChunkerParams(params);
    this.#min = params.min;
    this.#avg = params.avg;
    this.#max = params.max;
    const bits = Math.round(Math.log2(params.avg));
    this.#maskStrict = topBits(bits + 2);
    this.#maskLoose = topBits(bits - 2);
  }

  /**
   * Consumes `data`; returns the stream offsets (exclusive ends) of the chunks completed inside it,
   * in order. A returned chunk may start in an earlier buffer.
   */
  push(data: Uint8Array): number[] {
    const cuts: number[] = [];
    const n = data.length;
    const min = this.#min;
    const avg = this.#avg;
    const max = this.#max;
    const maskStrict = this.#maskStrict;
    const maskLoose = this.#maskLoose;
    const gear = GEAR;
    let pos = this.#pos;
    let h = this.#hash;
    let i = 0;
    while (i < n) {
      if (pos < min) {
        const skip = Math.min(min - pos, n - i);
        pos += skip;
        i += skip;
        continue;
      }
      let matched = false;
      const start = i;
      // Two loops rather than one with a per-byte mask choice: the hot loop stays minimal.
      if (pos < avg) {
        const stop = Math.min(n, i + (avg - pos));
        while (i < stop) {
          h = ((h << 1) + gear[data[i++]!]!) | 0;
          if ((h & maskStrict) === 0) {
            matched = true;
            break;
          }
        }
      } else {
        const stop = Math.min(n, i + (max - pos));
        while (i < stop) {
          h = ((h << 1) + gear[data[i++]!]!) | 0;
          if ((h & maskLoose) === 0) {
            matched = true;
            break;
          }
        }
      }
      pos += i - start;
      if (matched || pos >= max) {
        cuts.push(this.#offset + i);
        pos = 0;
        h = 0;
      }
    }
    this.#offset += n;
    this.#pos = pos;
    this.#hash = h;
    return cuts;
  }

  /** Ends the input: returns the end of the last chunk (if any bytes are pending) and resets. */
  finish(): number[] {
    const cuts = this.#pos > 0 ? [this.#offset] : [];
    this.#offset = 0;
    this.#pos = 0;
    this.#hash = 0;
    return cuts;
  }
}

/**
 * Runs every path of `push` once — bytes skipped across a push, the hash loops before and after
 * `avg`, a cut by hash, a cut at `max` — over a few KiB with small parameters (the same code, the
 * same kinds of values). A worker calls it at start: its first files are mostly smaller than the
 * minimum chunk, so V8 optimised `push` having seen only the skip, then threw the code away at the
 * first larger file, and again at each path met for the first time (8–10 recompiles a store).
 */
export function primeGearChunker(): void {
  const chunker = new GearChunker({ min: 64, avg: 256, max: 1024 });
  // A Buffer, as workers chunk (a plain Uint8Array has another hidden class).
  const data = Buffer.alloc(16_384);
  let x = 0x9e3779b9;
  for (let i = 0; i < data.length; i++) {
    x = (x ^ (x << 13) ^ (x >>> 17) ^ (x << 5)) >>> 0;
    data[i] = x & 0xff;
  }
  // A run of zeros: its hash never matches, so a chunk reaches `max`.
  data.fill(0, 4096, 8192);
  for (let at = 0; at < data.length; at += 700) chunker.push(data.subarray(at, Math.min(at + 700, data.length)));
  chunker.finish();
}

/** One-shot chunking: the exclusive end offset of every chunk of `data` (empty input → []). */
export function chunkBoundaries(data: Uint8Array, params: ChunkerParams): number[] {
  const chunker = new GearChunker(params);
  const cuts = chunker.push(data);
  for (const c of chunker.finish()) cuts.push(c);
  return cuts;
}
