import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Archive } from '../../../main/archive/archive.js';
import Database from 'better-sqlite3';
import { KnownChunks } from '../../../main/store/known-chunks.js';
import { workerData } from '../../../main/store/ingest-protocol.js';
import type { IngestWorkerData } from '../../../main/store/ingest-protocol.js';
import { DEFAULT_CHUNKER } from '../../../main/store/index.js';
import { tempDir } from '../../helpers/tmp.js';

function init(dbFile: string | undefined): IngestWorkerData {
  return {
    params: DEFAULT_CHUNKER,
    zstdLevel: 3,
    dbFile,
    niceness: 0,
    commits: new Int32Array(new SharedArrayBuffer(4)),
    snapshotMaxAgeMs: 1_000,
    snapshotIdleMs: 200,
    groupBytes: 0,
  };
}

describe('KnownChunks (an ingest worker asks whether a chunk is stored)', () => {
  const archives: Archive[] = [];
  afterEach(async () => {
    for (const a of archives.splice(0)) await a.close();
  });

  it('hands every input the same lookup function, so the pipeline options keep one shape', async () => {
    const dir = tempDir();
    archives.push(await Archive.open({ dir }));
    const known = new KnownChunks(init(join(dir, 'archive.db')));
    const first = known.lookup();
    expect(first).toBeTypeOf('function');
    expect(known.lookup()).toBe(first);
    expect(first!(randomBytes(32))).toBe(false);
  });

  /** An archive with one lookup's snapshot held by `known`, then a block appended behind it. */
  async function heldSnapshot(
    snapshotIdleMs?: number,
  ): Promise<{ copied: () => boolean; held: () => boolean; close: () => void }> {
    const dir = tempDir();
    const archive = await Archive.open({ dir });
    archives.push(archive);
    const db = new Database(join(dir, 'archive.db'));
    const commits = new Int32Array(new SharedArrayBuffer(8));
    const known = new KnownChunks(
      workerData({ params: DEFAULT_CHUNKER, zstdLevel: 3, dbFile: join(dir, 'archive.db'), commits, snapshotIdleMs }),
    );
    expect(known.lookup()!(randomBytes(32))).toBe(false); // takes a snapshot of the archive as it is
    archive.appendBlocks([
      { kind: 'file', contentRoot: randomBytes(32), size: 1, storedSize: 1, chunkCount: 1, codec: 'zstd-3', meta: {} },
    ]);
    // A checkpoint that finds another running (the archive's own checkpointer worker) says busy,
    // with -1 for both counts: that reading is neither copied nor held. (Read as copied, -1 === -1
    // once failed this file's 60 s-idle test in CI.)
    const checkpoint = () =>
      (db.pragma('wal_checkpoint(PASSIVE)') as { busy: number; log: number; checkpointed: number }[])[0]!;
    const copied = (): boolean => {
      const r = checkpoint();
      return r.busy === 0 && r.log > 0 && r.checkpointed === r.log;
    };
    const held = (): boolean => {
      const r = checkpoint();
      return r.busy === 0 && r.log > 0 && r.checkpointed < r.log;
    };
    // Holding `known` until close: a KnownChunks collected as garbage would end its snapshot too.
    const close = (): void => {
      db.close();
      expect(known.lookup()).toBeTypeOf('function');
    };
    return { copied, held, close };
  }

  it('by default ends its read snapshot 20 ms after its last lookup, so the WAL can be copied', async () => {
    // 20 ms: at 200 ms, an end-of-store checkpoint found the workers' snapshots still held.
    expect(workerData({ params: DEFAULT_CHUNKER, zstdLevel: 3, commits: new Int32Array(1) }).snapshotIdleMs).toBe(20);
    const { copied, held, close } = await heldSnapshot();
    // The new frames wait for the snapshot to end (it could still need the pages they replace)...
    await expect.poll(held, { timeout: 2_000, interval: 1 }).toBe(true);
    // ...and nothing but the idle timer ends it.
    await expect.poll(copied, { timeout: 2_000, interval: 5 }).toBe(true);
    close();
  });

  it('holds its read snapshot while lookups may still come (snapshotIdleMs)', async () => {
    const { copied, held, close } = await heldSnapshot(60_000);
    const until = performance.now() + 300;
    while (performance.now() < until) {
      expect(copied()).toBe(false);
      await new Promise((r) => setTimeout(r, 10));
    }
    await expect.poll(held, { timeout: 2_000, interval: 1 }).toBe(true);
    close();
  });

  it('has no lookup without an archive to ask', () => {
    expect(new KnownChunks(init(undefined)).lookup()).toBeUndefined();
  });
});
