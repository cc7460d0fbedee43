import { randomBytes } from 'node:crypto';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { BenchContext, CorpusInfo } from '../../bench/context.js';
import { floorSection } from '../../bench/floor.js';
import { tempDir } from '../helpers/tmp.js';

function contextFor(dir: string): BenchContext {
  const corpus = { dir } as CorpusInfo;
  return {
    repoRoot: dir,
    workDir: dir,
    corpus: () => Promise.resolve(corpus),
    results: {},
    keep: false,
    removeAtEnd: () => {},
  };
}

describe('bench: the floor section', () => {
  it('reads every regular file whole, cuts and compresses all of it, and follows no symlink', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'a', 'b'), { recursive: true });
    // Larger than the section's first 8 MiB buffer, and compressible: all of it must be read and
    // compressed, not one buffer's worth.
    const text = Buffer.from('deed parcel owner district record '.repeat(320_000)).subarray(0, 10 * 2 ** 20 + 3);
    writeFileSync(join(dir, 'a', 'b', 'register.txt'), text);
    // Random bytes do not compress: they count in full.
    const noise = randomBytes(3 * 2 ** 20);
    writeFileSync(join(dir, 'a', 'noise.bin'), noise);
    writeFileSync(join(dir, 'small.txt'), 'a small file');
    writeFileSync(join(dir, 'empty'), '');
    symlinkSync(join(dir, 'a', 'noise.bin'), join(dir, 'link'));

    const r = (await floorSection(contextFor(dir))) as {
      files: number;
      bytes: number;
      chunks: number;
      storedBytes: number;
      fileSyscallsOnly: { cpuSeconds: number };
      chunkHashCompress: { cpuSeconds: number };
    };
    expect(r.files).toBe(4);
    expect(r.bytes).toBe(text.length + noise.length + 'a small file'.length);
    // Chunks are at most 1 MiB: at least 11 for the text and 3 for the noise, plus the small file.
    expect(r.chunks).toBeGreaterThanOrEqual(15);
    // The noise is stored nearly whole, the text in a sliver of its size.
    expect(r.storedBytes).toBeGreaterThan(noise.length);
    expect(r.storedBytes).toBeLessThan(noise.length + text.length / 20);
    expect(r.chunkHashCompress.cpuSeconds).toBeGreaterThan(0);
  });
});
