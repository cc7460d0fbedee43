import { createHash } from 'node:crypto';
import { ChunkEncoder, type SealedGroup } from '../../../main/store/index.js';
import { seeded } from '../../helpers/tmp.js';

/** `n` pseudo-random bytes from a seed: incompressible, and the same on every run. */
export function randomBytesSeeded(n: number, seed: number): Buffer {
  const next = seeded(seed);
  const words = new Uint32Array(Math.ceil(n / 4));
  for (let i = 0; i < words.length; i++) words[i] = Math.floor(next() * 2 ** 32);
  return Buffer.from(words.buffer, 0, n);
}

/** Compressible text-like bytes: words drawn from a small vocabulary. */
export function textBytes(n: number, seed: number): Buffer {
  const next = seeded(seed);
  const vocab = ['archive', 'deed', 'record', 'office', 'belize', 'parcel', 'owner', 'the', 'of', 'and', '\n'];
  const parts: string[] = [];
  let len = 0;
  while (len < n) {
    const w = vocab[Math.floor(next() * vocab.length)]! + ' ';
    parts.push(w);
    len += w.length;
  }
  return Buffer.from(parts.join('')).subarray(0, n);
}

/** Chunk lengths from the exclusive end offsets a chunker returns. */
export function lengthsOf(cuts: readonly number[]): number[] {
  return cuts.map((c, i) => c - (i === 0 ? 0 : cuts[i - 1]!));
}

/** A group as a worker would seal it: the members' bytes side by side in one zstd frame (level 3). */
export function groupOf(raws: readonly Buffer[]): SealedGroup {
  const all = Buffer.concat(raws);
  const scratch = Buffer.alloc(ChunkEncoder.bound(all.length));
  const n = new ChunkEncoder(3).frameInto(all, scratch);
  let at = 0;
  const members = raws.map((r) => {
    const m = { id: createHash('sha256').update(r).digest(), rawLength: r.length, at };
    at += r.length;
    return m;
  });
  return { frame: Buffer.from(scratch.subarray(0, n)), rawLength: all.length, members };
}
