import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Archive } from '../../../main/archive/archive.js';
import { requireWriter } from '../../../main/archive/context.js';
import { openDb } from '../../../main/db/database.js';
import { IDLE_END_MS, MAX_AGE_MS, TaskSnapshot } from '../../../main/dag/task-snapshot.js';
import { spec } from '../../../bench/dag-million.js';
import { tempDir } from '../../helpers/tmp.js';

const nextTask = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('hash lookups share a read snapshot per task (TaskSnapshot)', () => {
  const archives: Archive[] = [];
  afterEach(async () => {
    for (const a of archives.splice(0)) await a.close();
  });
  async function archive(dir = tempDir()): Promise<Archive> {
    const a = await Archive.open({ dir });
    archives.push(a);
    return a;
  }

  it('beside another process that writes, keeps one snapshot for the lookups of a task, and ends it with the task', async () => {
    const dir = tempDir();
    const w = await archive(dir);
    const [x, y] = w.appendBlocks([spec(1, randomBytes(32)), spec(2, randomBytes(32))]);
    const r = await Archive.open({ dir, readonly: true });
    archives.push(r);
    const index = r.ctx.index;
    expect(index.taskSnapshotOpen).toBe(false);
    expect(index.seqOf(x!.hash)).toBe(x!.seq);
    expect(index.taskSnapshotOpen).toBe(true);
    expect(index.seqOf(y!.hash)).toBe(y!.seq);
    expect(index.seqOf(randomBytes(32))).toBeUndefined();
    await nextTask();
    expect(index.taskSnapshotOpen).toBe(false);
  });

  it('sees a block the writer committed after an earlier lookup in the same task', async () => {
    const a = await archive();
    const index = a.ctx.index;
    const [first] = a.appendBlocks([spec(1, randomBytes(32))]);
    expect(index.seqOf(first!.hash)).toBe(first!.seq);
    const [later] = a.appendBlocks([spec(2, randomBytes(32))]);
    expect(index.seqOf(later!.hash)).toBe(later!.seq);
  });

  it("inside the writer's transaction, reads through the writer and sees its uncommitted block", async () => {
    const a = await archive();
    const index = a.ctx.index;
    const [old] = a.appendBlocks([spec(1, randomBytes(32))]);
    expect(index.seqOf(old!.hash)).toBe(old!.seq); // a snapshot is open
    const db = a.ctx.db;
    const fresh = db.transaction(() => {
      const w = requireWriter(a.ctx).append(spec(2, randomBytes(32)));
      expect(index.seqOf(w.hash)).toBe(w.seq);
      expect(index.taskSnapshotOpen).toBe(false);
      return w;
    })();
    expect(index.seqOf(fresh.hash)).toBe(fresh.seq);
    // Rolled back, it is gone for the next lookup.
    let rolled: Buffer | undefined;
    expect(() =>
      db.transaction(() => {
        rolled = requireWriter(a.ctx).append(spec(3, randomBytes(32))).hash;
        expect(index.seqOf(rolled)).toBeDefined();
        throw new Error('roll back');
      })(),
    ).toThrow('roll back');
    requireWriter(a.ctx).reload();
    expect(index.seqOf(rolled!)).toBeUndefined();
  });

  it("in a reader, sees another process's commit from the next task on, and keeps one state within a task", async () => {
    const dir = tempDir();
    const a = await archive(dir);
    const [x] = a.appendBlocks([spec(1, randomBytes(32))]);
    const r = await Archive.open({ dir, readonly: true });
    archives.push(r);
    // A second connection stands in for the writing process: it copies block x under a new hash.
    const other = openDb(join(dir, 'archive.db'));
    const hash = randomBytes(32);
    const index = r.ctx.index;
    try {
      expect(index.seqOf(hash)).toBeUndefined();
      other
        .prepare(
          `INSERT INTO blocks (seq, hash, kind, depth, ts, size, stored_size, content_root, header)
           SELECT seq + 1000, ?, kind, depth, ts, size, stored_size, content_root, header FROM blocks WHERE seq = ?`,
        )
        .run(hash, x!.seq);
      expect(index.seqOf(hash)).toBeUndefined(); // the same task: the same state
      await nextTask();
      expect(index.seqOf(hash)).toBe(x!.seq + 1000);
    } finally {
      other.close();
    }
  });

  it("in the writer's process, keeps the snapshot across tasks, and ends it once IDLE_END_MS pass without a lookup", async () => {
    const a = await archive();
    const [x] = a.appendBlocks([spec(1, randomBytes(32))]);
    const index = a.ctx.index;
    expect(index.seqOf(x!.hash)).toBe(x!.seq);
    await nextTask();
    expect(index.taskSnapshotOpen).toBe(true);
    expect(index.seqOf(x!.hash)).toBe(x!.seq);
    // Ended for being idle, well before MAX_AGE_MS would end it anyway.
    const asked = performance.now();
    while (index.taskSnapshotOpen && performance.now() - asked < MAX_AGE_MS / 2) await sleep(IDLE_END_MS);
    expect(index.taskSnapshotOpen).toBe(false);
  });

  it("in the writer's process, a lookup in a later task sees what the writer committed meanwhile", async () => {
    const a = await archive();
    const index = a.ctx.index;
    const [x] = a.appendBlocks([spec(1, randomBytes(32))]);
    expect(index.seqOf(x!.hash)).toBe(x!.seq);
    await nextTask();
    const [y] = a.appendBlocks([spec(2, randomBytes(32))]);
    await nextTask();
    expect(index.seqOf(y!.hash)).toBe(y!.seq);
  });

  it("in the writer's process, begins a new snapshot once one is maxAgeMs old, however busy", async () => {
    const dir = tempDir();
    const a = await archive(dir);
    const [x] = a.appendBlocks([spec(1, randomBytes(32))]);
    // Checked every 100 ms; a lookup every ~2 ms never lets it be idle that long.
    const snap = new TaskSnapshot(a.ctx.db, join(dir, 'archive.db'), {
      soleWriter: true,
      idleEndMs: 100,
      maxAgeMs: 10,
    });
    try {
      const lookup = (): unknown => snap.enter()!.prepare('SELECT seq FROM blocks WHERE hash = ?').pluck().get(x!.hash);
      expect(lookup()).toBe(x!.seq);
      const first = snap.begun;
      const start = performance.now();
      while (performance.now() - start < 350) {
        await sleep(2);
        expect(lookup()).toBe(x!.seq);
      }
      expect(snap.begun - first).toBeGreaterThanOrEqual(2);
    } finally {
      snap.close();
    }
  });

  it('closes its connection with the archive, so the last close removes the WAL', async () => {
    const dir = tempDir();
    const a = await Archive.open({ dir });
    const [x] = a.appendBlocks([spec(1, randomBytes(32))]);
    expect(a.ctx.index.seqOf(x!.hash)).toBe(x!.seq);
    await nextTask();
    await a.close();
    expect(existsSync(join(dir, 'archive.db-wal'))).toBe(false);
  });
});
