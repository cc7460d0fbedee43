import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Committer } from '../../../main/archive/committer.js';
import type { BlockSpec } from '../../../main/dag/block-writer.js';
import { Codec } from '../../../main/store/types.js';
import type { Archive } from '../../../main/archive/archive.js';
import { openDb, type Db } from '../../../main/db/database.js';
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

/** Resolves when the chunk store next starts an asynchronous sync (a commit has begun). */
function syncStarted(a: Archive): Promise<void> {
  const chunks = a.ctx.chunks;
  const original = chunks.syncAsync.bind(chunks);
  return new Promise((resolve) => {
    chunks.syncAsync = () => {
      chunks.syncAsync = original;
      resolve();
      return original();
    };
  });
}

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
    const syncing = syncStarted(a);
    const first = c.submit(spec(1), []);
    const flushed = c.flush(); // commits: it awaits the pack fsync first
    await syncing;
    const second = c.submit(spec(2), []); // queued while that commit runs
    await flushed;
    await expect(first).resolves.toMatchObject({ reused: false });
    await expect(second).resolves.toMatchObject({ reused: false });
    expect(Atomics.load(c.commits, 0)).toBe(2);
  });

  it('appends in slices with the event loop free between them, and commits them together; no other connection sees them before', async () => {
    const a = await openArchive();
    // sliceMs 0 and minSliceObjects 1: every slice takes one object.
    const c = new Committer(a.ctx, { maxDelayMs: 600_000, sliceMs: 0, minSliceObjects: 1 });
    const other = openDb(a.ctx.dbFile, { readonly: true });
    const count = (db: Db) => db.prepare('SELECT count(*) FROM blocks').pluck().get() as number;
    const before = count(a.ctx.db);
    const seen: [number, number][] = [];
    let done = false;
    const watch = (): void => {
      if (done) return;
      seen.push([count(a.ctx.db), count(other)]);
      setImmediate(watch);
    };
    setImmediate(watch);
    const written = [1, 2, 3, 4].map((n) => c.submit(spec(n), []));
    await c.flush();
    done = true;
    expect((await Promise.all(written)).map((w) => w.seq)).toEqual([before, before + 1, before + 2, before + 3]);
    expect(Atomics.load(c.commits, 0)).toBe(1);
    // Turns ran while the open transaction held 2 and 3 of the objects (this connection sees its
    // own transaction) while another connection still saw none of them.
    expect(seen).toContainEqual([before + 2, before]);
    expect(seen).toContainEqual([before + 3, before]);
    expect(count(other)).toBe(before + 4);
    other.close();
  });

  it('keeps a transaction open until its oldest object has waited maxDelayMs, and resolves nothing before', async () => {
    const a = await openArchive();
    const c = new Committer(a.ctx, { maxDelayMs: 150 });
    const t0 = performance.now();
    let resolvedAt = 0;
    const first = c.submit(spec(1), []).then((w) => ((resolvedAt = performance.now()), w));
    await new Promise((r) => setTimeout(r, 60));
    expect(c.open).toBe(true);
    const second = c.submit(spec(2), []);
    await Promise.all([first, second]);
    expect(resolvedAt - t0).toBeGreaterThanOrEqual(140);
    expect(Atomics.load(c.commits, 0)).toBe(1);
    expect(c.open).toBe(false);
  });

  it('hurry: what is submitted while it runs commits at once, also when the runner already sleeps on the delay', async () => {
    const a = await openArchive();
    // A delay far beyond the test's patience: only hurry can commit in time.
    let hurried = 0;
    const c = new Committer(a.ctx, { maxDelayMs: 600_000, onHurry: () => hurried++ });
    const sleeping = c.submit(spec(1), []);
    await new Promise((r) => setTimeout(r, 30));
    expect(c.open).toBe(true); // appended, waiting out the delay
    // Nothing new arrives to wake the runner: hurry itself must.
    const first = await c.hurry(sleeping);
    expect(c.open).toBe(false);
    expect(hurried).toBe(1); // the archive starts a WAL checkpoint then
    const second = await c.hurry(c.submit(spec(2), []));
    expect(second.seq).toBe(first.seq + 1);
    expect(Atomics.load(c.commits, 0)).toBe(2);
    // Outside hurry the delay holds again.
    const later = c.submit(spec(3), []);
    await new Promise((r) => setTimeout(r, 50));
    expect(c.open).toBe(true);
    await c.flush();
    await expect(later).resolves.toMatchObject({ reused: false });
  });

  it('a checkpoint commits the open transaction first: it never signs blocks that could roll back', async () => {
    const a = await openArchive();
    const c = a.ingester().committer;
    const pending = c.submit(spec(1), []);
    await new Promise((r) => setImmediate(r));
    expect(c.open).toBe(true);
    const cp = a.checkpoint();
    expect(c.open).toBe(false);
    const w = await pending;
    expect(cp.size).toBe(w.seq + 1);
    const other = openDb(a.ctx.dbFile, { readonly: true });
    expect(other.prepare('SELECT count(*) FROM blocks').pluck().get()).toBe(cp.size);
    expect(other.prepare('SELECT max(size) FROM checkpoints').pluck().get()).toBe(cp.size);
    other.close();
  });

  it('refuses a malformed object alone, having written nothing of it, and commits the others', async () => {
    const a = await openArchive();
    const c = new Committer(a.ctx, { maxDelayMs: 600_000, sliceMs: 0, minSliceObjects: 1 });
    const before = a.stats().blocks;
    const bad: BlockSpec = { ...spec(3), contentRoot: Buffer.alloc(5) }; // not a 32-byte root
    const settled = Promise.allSettled([spec(1), spec(2), bad, spec(4)].map((s) => c.submit(s, [])));
    await c.flush();
    const results = await settled;
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect(String((results[2] as PromiseRejectedResult).reason)).toMatch(/contentRoot must be 32 bytes/);
    expect(a.stats().blocks).toBe(before + 3);
  });

  it('a slice failing in the database rolls back the whole open transaction, rejects every object in it, and refuses more', async () => {
    const a = await openArchive();
    const c = new Committer(a.ctx, { maxDelayMs: 600_000, sliceMs: 0, minSliceObjects: 1 });
    const before = a.stats();
    // A chunk id the store never saw: found missing after the block's rows are written.
    const lost = createHash('sha256').update('never put').digest();
    const settled = Promise.allSettled(
      [spec(1), spec(2), { ...spec(3), chunkCount: 1, size: 1 }, spec(4)].map((s, i) =>
        c.submit(s, i === 2 ? [lost] : []),
      ),
    );
    await c.flush();
    const results = await settled;
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected', 'rejected']);
    expect(String((results[2] as PromiseRejectedResult).reason)).toMatch(/vanished before commit/);
    await expect(c.submit(spec(5), [])).rejects.toThrow(/an earlier commit failed/);
    expect(a.ctx.db.inTransaction).toBe(false);
    expect(a.stats().blocks).toBe(before.blocks);
    // In-memory state was reloaded: the next block goes where the database says.
    const empty = createHash('sha256').digest(); // the content root of no chunks
    expect(a.appendBlocks([{ ...spec(6), contentRoot: empty }])[0]!.seq).toBe(before.blocks);
    expect((await a.check()).problems).toEqual([]);
  });

  it('never indexes a chunk put after the commit began syncing the pack; the next commit does', async () => {
    const a = await openArchive();
    const c = new Committer(a.ctx, { maxDelayMs: 600_000, sliceMs: 0, minSliceObjects: 1 });
    const count = a.ctx.db.prepare('SELECT count(*) FROM chunks WHERE id = ?').pluck();
    const syncing = syncStarted(a);
    const waiting = [1, 2].map((n) => c.submit(spec(n), []));
    const flushed = c.flush(); // the commit starts: it waits for the pack's fdatasync
    await syncing;
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
