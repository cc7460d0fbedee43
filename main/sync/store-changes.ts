import { lstatSync, readlinkSync } from 'node:fs';
import type { BigIntStats } from 'node:fs';
import { basename, join } from 'node:path';
import type { SyncActivity } from '../../shared/sync-status.js';
import { IngestSlots } from '../archive/slots.js';
import { storeFile, storeSymlink, type Ingester } from '../archive/store-ops.js';
import { ino64, mtimeMs, trackedFrom, type Plan, type Seen } from './scan.js';
import type { Counts, RecordedChange, TrackedFile } from './sync-db.js';

export interface StoreChangesHooks {
  activity(kind: SyncActivity['kind'], path: string, detail?: string, hash?: string): void;
  problem(rel: string, e: unknown): void;
  progress(filesDone: number, bytesDone: number): void;
}

export interface StoredChanges {
  readonly changes: RecordedChange[];
  readonly counts: Counts;
  readonly bytes: number;
}

/**
 * Carries out a plan: renames from the stored chunks, new and changed files read into the
 * archive, deletions. Returns the changes to record. A file that changed while it was read is
 * moved to `plan.deferred`; one that cannot be read is reported and left as it was.
 */
export async function storeChanges(
  ing: Ingester,
  root: string,
  plan: Plan,
  seen: ReadonlyMap<string, Seen>,
  tracked: ReadonlyMap<string, TrackedFile>,
  hooks: StoreChangesHooks,
): Promise<StoredChanges> {
  const changes: RecordedChange[] = [];
  const counts: Counts = { added: 0, changed: 0, deleted: 0 };
  let bytes = 0;
  let filesDone = 0;

  // Renames first: the content is stored, so a new block with the new name reuses its chunks.
  for (const [to, from] of plan.renames) {
    const s = seen.get(to)!;
    const w = await renamedBlock(ing, from, to, s.st);
    changes.push({ type: 'put', file: trackedFrom(to, w.seq, s), origin: 'local' });
    changes.push({ type: 'delete', path: from.path, origin: 'local' });
    hooks.activity('renamed', to, `from ${from.path}`, w.hash.toString('hex'));
    filesDone++;
  }

  // New and changed files, several in flight. A file holds its slot while it is read and chunked;
  // once its chunks are stored it only waits for its group commit, and many may wait at once
  // (as in store-tree.ts) — otherwise the commit delay would cap a sync at a few files a commit.
  const window = Math.max(2, ing.pool.size * 16);
  const slots = new IngestSlots(window);
  const all: Promise<void>[] = [];
  for (const rel of plan.ingest) {
    const s = seen.get(rel)!;
    const release = await slots.take();
    const p = ingestOne(ing, root, rel, s, release).then(
      (r) => {
        filesDone++;
        if (!r) {
          plan.deferred.push(rel);
          return;
        }
        bytes += r.size;
        const was = tracked.get(rel);
        changes.push({ type: 'put', file: r.file, origin: 'local' });
        if (was) counts.changed++;
        else counts.added++;
        hooks.activity(was ? 'changed' : 'added', rel, undefined, r.hash);
        if (filesDone % 64 === 0) hooks.progress(filesDone, bytes);
      },
      (e: unknown) => {
        filesDone++;
        hooks.problem(rel, e);
      },
    );
    all.push(p.finally(release));
  }
  await Promise.all(all);
  hooks.progress(filesDone, bytes);
  for (const rel of plan.deletes) {
    changes.push({ type: 'delete', path: rel, origin: 'local' });
    counts.deleted++;
    hooks.activity('deleted', rel);
  }
  return { changes, counts, bytes };
}

/** The log position of a block just stored (an index probe; its header is not rebuilt). */
function seqOf(ing: Ingester, hash: string): number {
  const seq = ing.ctx.index.seqOf(Buffer.from(hash, 'hex'));
  if (seq === undefined) throw new Error(`block ${hash} was stored but is not in the index`);
  return seq;
}

/** Reads one new or changed path; undefined when it changed while being read (try again later). */
async function ingestOne(
  ing: Ingester,
  root: string,
  rel: string,
  s: Seen,
  onIngested: () => void,
): Promise<{ file: TrackedFile; size: number; hash: string } | undefined> {
  const abs = join(root, rel);
  if (s.kind === 'symlink') {
    onIngested();
    const r = await storeSymlink(ing, abs, s.st, readlinkSync(abs));
    return { file: trackedFrom(rel, seqOf(ing, r.hash), s), size: r.size, hash: r.hash };
  }
  const r = await storeFile(ing, abs, s.st, undefined, onIngested);
  const after = lstatSync(abs, { bigint: true, throwIfNoEntry: false });
  if (!after || after.size !== s.st.size || after.mtimeNs !== s.st.mtimeNs || ino64(after) !== ino64(s.st))
    return undefined;
  return { file: trackedFrom(rel, seqOf(ing, r.hash), s), size: r.size, hash: r.hash };
}

/** A block for a renamed file made from the old block's chunks: nothing is read again. */
async function renamedBlock(ing: Ingester, from: TrackedFile, to: string, st: BigIntStats) {
  const ctx = ing.ctx;
  const old = ctx.index.bySeq(from.seq)!;
  const ids = ctx.db
    .prepare('SELECT c.id FROM object_chunks o JOIN chunks c ON c.rid = o.chunk WHERE o.seq = ? ORDER BY o.idx')
    .pluck()
    .all(from.seq) as Buffer[];
  return ing.committer.submit(
    {
      kind: 'file',
      contentRoot: old.header.contentRoot,
      size: old.header.size,
      storedSize: old.header.storedSize,
      chunkCount: ids.length,
      codec: old.header.codec,
      meta: {
        ...old.header.meta,
        name: basename(to),
        mode: (Number(st.mode) & 0o7777).toString(8).padStart(4, '0'),
        mtime: String(mtimeMs(st.mtimeNs)),
      },
    },
    ids,
  );
}
