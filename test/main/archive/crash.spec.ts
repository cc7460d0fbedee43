import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Archive } from '../../../main/archive/archive.js';
import { pakit, pakitAsync } from '../../helpers/cli.js';
import { prose, sha256hex, writeFile } from '../../helpers/files.js';
import { seeded, tempDir } from '../../helpers/tmp.js';

/** A tree big enough that `store` takes a while: many small files and some large ones. */
function makeWorkload(root: string, round: number): void {
  const rnd = seeded(round + 1);
  for (let i = 0; i < 80; i++)
    writeFile(root, `small/${i}.txt`, prose(2_000 + Math.floor(rnd() * 20_000), round * 1000 + i));
  for (let i = 0; i < 4; i++)
    writeFile(root, `big/${i}.bin`, Buffer.concat([prose(1_500_000, round * 77 + i), randomBytes(500_000)]));
}

describe('crash safety: kill -9 during store', () => {
  it('always reopens, passes check, and keeps every object whose store returned', async () => {
    const data = tempDir();
    const src = tempDir();
    const rnd = seeded(2024);
    const returned = new Map<string, string>(); // hash -> sha256 of the content stored
    let kills = 0;
    let storeMs = 0;
    // At least ten rounds, and more (up to 24) until six kills landed mid-store: a store that ends
    // before its kill fires teaches the window how long stores take now, as the archive grows.
    for (let round = 0; round < 24 && (round < 10 || kills < 6); round++) {
      makeWorkload(src, round);
      const contents = new Map<string, string>();
      const child = pakitAsync(['--data', data, 'store', src]);
      let out = '';
      child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
      // Round 0 runs to the end to learn how long a store takes here; later rounds are killed at a
      // random moment inside that span, so kills land mid-store on fast and slow machines alike.
      const started = Date.now();
      const timer =
        round === 0
          ? undefined
          : setTimeout(
              () => {
                if (child.kill('SIGKILL')) kills++;
              },
              Math.floor(storeMs * (0.05 + 0.9 * rnd())),
            );
      const code = await exited;
      if (round === 0) {
        expect(code).toBe(0);
        storeMs = Date.now() - started;
      } else if (code === 0) storeMs = Math.min(storeMs, Date.now() - started);
      clearTimeout(timer);
      // Only complete lines count as "store returned".
      for (const line of out.split('\n').slice(0, -1)) {
        const hash = line.slice(0, 64);
        const path = line.slice(66);
        if (path.endsWith('/')) continue;
        if (!contents.has(path)) contents.set(path, sha256hex(readFileSync(path)));
        returned.set(hash, contents.get(path)!);
      }
      const check = pakit(['--data', data, 'check', '--json']);
      expect(JSON.parse(check.stdout).problems).toEqual([]);
      expect(check.code).toBe(0);
    }
    // A kill only counts if the store was still running when it fired.
    expect(kills).toBeGreaterThan(5);
    expect(returned.size).toBeGreaterThan(30);
    // Read back in-process (one reader for all objects; spawning a CLI per hash is slow).
    const reader = await Archive.open({ dir: data, readonly: true });
    try {
      for (const [hash, sum] of returned) {
        const parts: Buffer[] = [];
        for await (const p of reader.read(hash)) parts.push(p);
        expect(sha256hex(Buffer.concat(parts)), `object ${hash}`).toBe(sum);
      }
    } finally {
      await reader.close();
    }
  }, 600_000);

  it('lets readers list and read while another process writes', async () => {
    const data = tempDir();
    const src = tempDir();
    writeFile(src, 'first.txt', 'first');
    expect(pakit(['--data', data, 'store', join(src, 'first.txt')]).code).toBe(0);
    makeWorkload(src, 99);
    const child = pakitAsync(['--data', data, 'store', src]);
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    let reads = 0;
    for (let i = 0; i < 5; i++) {
      const ls = pakit(['--data', data, 'ls', '--json']);
      expect(ls.code).toBe(0);
      expect(JSON.parse(ls.stdout).length).toBeGreaterThanOrEqual(1);
      reads++;
    }
    // A second writer is refused with a clear message while the first runs (if it still runs).
    const second = pakit(['--data', data, 'store', join(src, 'first.txt')]);
    if (second.code !== 0) expect(second.stderr).toContain('being written by another process');
    expect(await exited).toBe(0);
    expect(reads).toBe(5);
  }, 120_000);
});
