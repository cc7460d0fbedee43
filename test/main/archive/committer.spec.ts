import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Committer } from '../../../main/archive/committer.js';
import type { BlockSpec } from '../../../main/dag/block-writer.js';
import { openArchive } from '../../helpers/archive.js';

const spec = (n: number): BlockSpec => ({
  kind: 'snapshot',
  contentRoot: randomBytes(32),
  size: 0,
  storedSize: 0,
  chunkCount: 0,
  codec: 'none',
  meta: { n: String(n) },
});

describe('group committer', () => {
  it('commits many objects in one transaction, each promise resolving after it', async () => {
    const a = await openArchive();
    const c = new Committer(a.ctx, { maxDelayMs: 20 });
    const before = a.stats().blocks;
    const written = await Promise.all([1, 2, 3, 4, 5].map((n) => c.submit(spec(n), [])));
    expect(written.map((w) => w.seq)).toEqual([before, before + 1, before + 2, before + 3, before + 4]);
    expect(a.stats().blocks).toBe(before + 5);
    expect(Atomics.load(c.commits, 0)).toBe(1);
  });

  it('flush also commits what was queued while a commit was running', async () => {
    const a = await openArchive();
    // A delay far beyond the test's patience: only flush() can commit in time.
    const c = new Committer(a.ctx, { maxDelayMs: 600_000 });
    const first = c.submit(spec(1), []);
    const flushed = c.flush(); // starts a commit, which awaits the pack fsync
    const second = c.submit(spec(2), []); // queued while that commit runs
    await flushed;
    await expect(first).resolves.toMatchObject({ reused: false });
    await expect(second).resolves.toMatchObject({ reused: false });
    expect(Atomics.load(c.commits, 0)).toBe(2);
  });
});
