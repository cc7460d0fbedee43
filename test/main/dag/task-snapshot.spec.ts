import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Archive } from '../../../main/archive/archive.js';
import { requireWriter } from '../../../main/archive/context.js';
import { openDb } from '../../../main/db/database.js';
import { spec } from '../../../bench/dag-million.js';
import { tempDir } from '../../helpers/tmp.js';

const nextTask = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

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

  it('keeps one snapshot for the lookups of a task, and ends it with the task', async () => {
    const a = await archive();
    const [x, y] = a.appendBlocks([spec(1, randomBytes(32)), spec(2, randomBytes(32))]);
    const index = a.ctx.index;
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

  it("sees another process's commit from the next task on, and keeps one state within a task", async () => {
    const dir = tempDir();
    const a = await archive(dir);
    const [x] = a.appendBlocks([spec(1, randomBytes(32))]);
    // A second connection stands in for another process: it copies block x under a new hash.
    const other = openDb(join(dir, 'archive.db'));
    const hash = randomBytes(32);
    const index = a.ctx.index;
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
