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
