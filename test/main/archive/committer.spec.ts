import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Committer } from '../../../main/archive/committer.js';
import type { BlockSpec } from '../../../main/dag/block-writer.js';
import { Codec } from '../../../main/store/types.js';
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

  it('splits a batch into transactions by time, each resolving its own objects', async () => {
    const a = await openArchive();
    // sliceMs 0 and minSliceObjects 1: every transaction takes one object, with the event loop free
    // in between.
    const c = new Committer(a.ctx, { maxDelayMs: 600_000, sliceMs: 0, minSliceObjects: 1 });
    const before = a.stats().blocks;
    const written = [1, 2, 3, 4].map((n) => c.submit(spec(n), []));
    await c.flush();
    expect((await Promise.all(written)).map((w) => w.seq)).toEqual([before, before + 1, before + 2, before + 3]);
    expect(Atomics.load(c.commits, 0)).toBe(4);
    expect(a.stats().blocks).toBe(before + 4);
  });

  it('keeps the objects committed before a failing transaction and rejects the rest', async () => {
    const a = await openArchive();
    const c = new Committer(a.ctx, { maxDelayMs: 600_000, sliceMs: 0, minSliceObjects: 1 });
    const before = a.stats().blocks;
    const bad: BlockSpec = { ...spec(3), contentRoot: Buffer.alloc(5) }; // not a 32-byte root
    const settled = Promise.allSettled([spec(1), spec(2), bad, spec(4)].map((s) => c.submit(s, [])));
    await c.flush();
    const results = await settled;
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'rejected']);
    expect(a.stats().blocks).toBe(before + 2);
  });

  it('never indexes a chunk put after the commit began syncing the pack; the next commit does', async () => {
    const a = await openArchive();
    const c = new Committer(a.ctx, { maxDelayMs: 600_000, sliceMs: 0, minSliceObjects: 1 });
    const count = a.ctx.db.prepare('SELECT count(*) FROM chunks WHERE id = ?').pluck();
    const waiting = [1, 2].map((n) => c.submit(spec(n), []));
    const flushed = c.flush(); // the commit starts: it waits for the pack's fdatasync
    // A chunk arriving meanwhile, as the ingest workers' chunks do: its bytes are not durable yet.
    const data = randomBytes(1000);
    const id = createHash('sha256').update(data).digest();
    a.ctx.chunks.put({ id, rawLength: data.length, encoded: { codec: Codec.Raw, data } });
    await flushed;
    await Promise.all(waiting);
    expect(count.get(id)).toBe(0);
    // An object using it goes in the next commit, which syncs the chunk before indexing it.
    const third = c.submit({ ...spec(3), chunkCount: 1, size: data.length }, [id]);
    await c.flush();
    await third;
    expect(count.get(id)).toBe(1);
  });
});
