import {
  chmodSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ObjectCorruptError } from '../../../main/archive/errors.js';
import { readAll as readBlock } from '../../../main/archive/read-ops.js';
import { getBlock, type ArchiveContext } from '../../../main/archive/context.js';
import { restoreFiles, WORKER_MIN_FILES, type TreeRestoreResult } from '../../../main/archive/restore-tree.js';
import { decodeSnapshot } from '../../../main/archive/snapshot.js';
import { describeTree, prose, writeFile } from '../../helpers/files.js';
import { forget, openArchive } from '../../helpers/archive.js';
import { seeded, tempDir } from '../../helpers/tmp.js';

/**
 * A tree big enough for restore workers: many small files in folders (stored in shared group
 * frames), one first in path order with a frame of its own (over 64 KiB), one file over 8 MiB, a link.
 */
function bigTree(root: string, files = 600): void {
  writeFile(root, 'd0/a-medium.txt', prose(100_000, 77));
  for (let i = 0; i < files; i++)
    writeFile(root, `d${i % 7}/sub${i % 3}/f${i}.txt`, prose(300 + ((i * 37) % 5_000), i));
  const rnd = seeded(9);
  const large = Buffer.alloc(9 << 20);
  for (let i = 0; i < large.length; i += 4) large.writeUInt32LE(Math.floor(rnd() * 2 ** 32), i);
  writeFile(root, 'large/scan.bin', large);
  chmodSync(join(root, 'd1/sub1/f1.txt'), 0o600);
  chmodSync(join(root, 'd2/sub2/f2.txt'), 0o755);
  utimesSync(join(root, 'd3/sub0/f3.txt'), new Date(1_500_000_000_000), new Date(1_500_000_000_000));
  symlinkSync('../large/scan.bin', join(root, 'd0/to-scan'));
}

/** Every file's mtime in ns, by relative path; `wholeMs` cuts each to the whole ms a snapshot records. */
function mtimes(root: string, wholeMs = false): Record<string, bigint> {
  const out: Record<string, bigint> = {};
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      if (!e.isFile()) continue;
      const ns = statSync(p, { bigint: true }).mtimeNs;
      out[relative(root, p)] = wholeMs ? (ns / 1_000_000n) * 1_000_000n : ns;
    }
  };
  walk(root);
  return out;
}

/** Temporary files a restore left anywhere under `root`. */
function leftovers(root: string): string[] {
  return readdirSync(root, { recursive: true, encoding: 'utf8' }).filter((p) => p.includes('.pakit-'));
}

/** A stored tree big enough for workers: its source, the archive and the snapshot's file entries. */
async function storedBigTree() {
  const src = tempDir();
  bigTree(src, WORKER_MIN_FILES + 100);
  const a = await openArchive();
  const { results } = await a.store([src]);
  const manifest = decodeSnapshot(await readBlock(a.ctx, getBlock(a.ctx, results.at(-1)!.hash)));
  return { src, a, files: manifest.entries.filter((e) => e.type === 'file') };
}

/** Restores `files` into a new folder with `workers` (waited for), and checks every file's bytes against `src`. */
async function restoreChecked(
  ctx: ArchiveContext,
  src: string,
  files: Awaited<ReturnType<typeof storedBigTree>>['files'],
  workers: number,
): Promise<TreeRestoreResult> {
  const out = tempDir();
  const r = await restoreFiles(
    ctx,
    files,
    (e) => {
      const path = join(out, e.path);
      mkdirSync(dirname(path), { recursive: true });
      return { path, hash: e.hash, mode: e.mode, mtime: e.mtime, size: e.size };
    },
    { workers, waitForWorkers: true },
  );
  for (const e of files) expect(readFileSync(join(out, e.path)).equals(readFileSync(join(src, e.path)))).toBe(true);
  return r;
}

describe('tree restore with workers', () => {
  it('restores the same tree with and without workers: bytes, modes, mtimes, links', async () => {
    const src = tempDir();
    bigTree(src);
    const a = await openArchive();
    const { results } = await a.store([src]);
    const snap = results.at(-1)!.hash;
    const alone = join(tempDir(), 'alone');
    const shared = join(tempDir(), 'shared');
    const s0 = await a.restore(snap, alone, { workers: 0 });
    const s1 = await a.restore(snap, shared, { workers: 1, waitForWorkers: true });
    expect(s1).toEqual(s0);
    expect(s1.files).toBe(602);
    expect(s1.symlinks).toBe(1);
    expect(describeTree(shared)).toEqual(describeTree(src));
    expect(describeTree(alone)).toEqual(describeTree(src));
    // Exactly the recorded ms, not a microsecond short (utimeSeconds).
    const want = mtimes(src, true);
    expect(want['d3/sub0/f3.txt']).toBe(1_500_000_000_000_000_000n);
    expect(mtimes(shared)).toEqual(want);
    expect(mtimes(alone)).toEqual(want);
    expect(leftovers(shared)).toEqual([]);
  });

  it('has workers write files only when asked and the tree is big enough', async () => {
    const { src, a, files } = await storedBigTree();
    const run = (workers: number, list = files) => restoreChecked(a.ctx, src, list, workers);
    const total = files.reduce((n, e) => n + e.size, 0);
    expect(await run(0)).toEqual({ files: files.length, bytes: total, byWorkers: 0, warnings: [] });
    const shared = await run(1);
    expect(shared).toMatchObject({ files: files.length, bytes: total, warnings: [] });
    expect(shared.byWorkers).toBeGreaterThan(0);
    // A small tree is not worth a worker's start.
    expect((await run(1, files.slice(0, WORKER_MIN_FILES - 1))).byWorkers).toBe(0);
  });

  it('restores everything on the calling thread when a worker cannot open the archive, and says so', async () => {
    const { src, a, files } = await storedBigTree();
    // The workers open the archive at ctx.dir: an empty folder, where there is none.
    const r = await restoreChecked({ ...a.ctx, dir: tempDir() }, src, files, 2);
    expect(r).toMatchObject({ files: files.length, byWorkers: 0 });
    // Two workers, one reason: one line.
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings[0]).toMatch(
      /^a restore worker could not open the archive \(.+\): the calling thread restored its share$/,
    );
  });

  it("throws a worker's corrupt-chunk error as the archive's own, and leaves no half-written file", async () => {
    const src = tempDir();
    bigTree(src);
    const a = await openArchive();
    const { results } = await a.store([src]);
    const snap = results.at(-1)!.hash;
    // The first file's frame (its own): with waitForWorkers the first batch goes to the worker, and
    // no other file reads that frame.
    const first = results.find((x) => x.path === join(src, 'd0/a-medium.txt'))!;
    const where = a.ctx.db
      .prepare(
        `SELECT c.pack, c.offset, coalesce(c.frame_len, c.stored_len) AS len FROM object_chunks o
         JOIN chunks c ON c.rid = o.chunk WHERE o.seq = ? ORDER BY o.idx LIMIT 1`,
      )
      .get(getBlock(a.ctx, first.hash).seq) as { pack: number; offset: number; len: number };
    const dir = a.ctx.dir;
    await a.close();
    forget(a);
    const pack = join(dir, 'packs', `${where.pack}.pack`);
    const bytes = readFileSync(pack);
    bytes[where.offset + Math.floor(where.len / 2)]! ^= 0xff;
    writeFileSync(pack, bytes);
    const b = await openArchive(dir);
    const out = join(tempDir(), 'out');
    const err = await b.restore(snap, out, { workers: 1, waitForWorkers: true }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ObjectCorruptError);
    expect((err as Error).message).toContain(`object ${first.hash}`);
    expect(leftovers(out)).toEqual([]);
    // Whatever was restored is whole and right.
    for (const p of readdirSync(out, { recursive: true, encoding: 'utf8' })) {
      const full = join(out, p);
      if (statSync(full).isFile()) expect(readFileSync(full).equals(readFileSync(join(src, p)))).toBe(true);
    }
  });
});
