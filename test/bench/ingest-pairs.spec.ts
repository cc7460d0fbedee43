import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { pairCount } from '../../bench/ingest-pairs.js';
import { warmPageCache } from '../../bench/page-cache.js';

describe('bench: warming the page cache', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pakit-warm-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads every regular file below the folder once, whole, and follows no symlink', () => {
    mkdirSync(join(dir, 'a', 'b'), { recursive: true });
    writeFileSync(join(dir, 'top.txt'), 'x'.repeat(10));
    writeFileSync(join(dir, 'a', 'empty'), '');
    // Bigger than the 1 MiB read buffer: counted whole, not one buffer's worth.
    writeFileSync(join(dir, 'a', 'b', 'big.bin'), Buffer.alloc(3 * 2 ** 20 + 5, 7));
    const outside = mkdtempSync(join(tmpdir(), 'pakit-warm-outside-'));
    writeFileSync(join(outside, 'far.bin'), Buffer.alloc(1000));
    symlinkSync(join(outside, 'far.bin'), join(dir, 'link-to-file'));
    symlinkSync(outside, join(dir, 'link-to-dir'));
    try {
      const w = warmPageCache(dir);
      expect(w.files).toBe(3);
      expect(w.bytes).toBe(10 + 0 + 3 * 2 ** 20 + 5);
      expect(w.seconds).toBeGreaterThanOrEqual(0);
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });
});

/** Bytes of dirty page cache the kernel reports (Linux), or undefined elsewhere. */
function dirtyBytes(): number | undefined {
  if (!existsSync('/proc/meminfo')) return undefined;
  const m = /^Dirty:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'));
  return m ? Number(m[1]) * 1024 : undefined;
}

describe('bench: a timed run starts with nothing dirty', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pakit-flush-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.runIf(dirtyBytes() !== undefined)('writes out what an earlier run left in the page cache', () => {
    // 64 MB just written (not synced) is dirty for ~30 s unless something writes it out. Other
    // tests may write meanwhile, so the check is on the drop, with half the file as margin.
    const size = 64 * 2 ** 20;
    writeFileSync(join(dir, 'left-behind.bin'), Buffer.alloc(size, 1));
    mkdirSync(join(dir, 'corpus'));
    writeFileSync(join(dir, 'corpus', 'a.txt'), 'a');
    const before = dirtyBytes()!;
    expect(before).toBeGreaterThan(size / 2);
    const w = warmPageCache(join(dir, 'corpus'));
    expect(w.files).toBe(1);
    expect(w.flushSeconds).toBeGreaterThanOrEqual(0);
    expect(dirtyBytes()!).toBeLessThan(before - size / 2);
  });
});

describe('bench: PAKIT_BENCH_PAIRS', () => {
  it('defaults to 5 and takes a whole number from 1 to 50', () => {
    expect(pairCount({})).toBe(5);
    expect(pairCount({ PAKIT_BENCH_PAIRS: '' })).toBe(5);
    expect(pairCount({ PAKIT_BENCH_PAIRS: '1' })).toBe(1);
    expect(pairCount({ PAKIT_BENCH_PAIRS: '50' })).toBe(50);
  });

  it('refuses anything else, naming the variable and the value', () => {
    for (const bad of ['0', '51', '-2', '2.5', 'five', ' ']) {
      expect(() => pairCount({ PAKIT_BENCH_PAIRS: bad })).toThrow(
        new RangeError(`PAKIT_BENCH_PAIRS must be a whole number from 1 to 50, not ${JSON.stringify(bad)}`),
      );
    }
  });
});
