import { lstatSync, renameSync, type BigIntStats } from 'node:fs';
import { basename, join } from 'node:path';
import type { SyncActivity } from '../../shared/sync-status.js';
import { getBlock, type ArchiveContext } from '../archive/context.js';
import { SyncFolderError } from './errors.js';
import { conflictName, writeBlockIntoFolder } from './folder-write.js';
import type { FolderSnapshots } from './folder-snapshot.js';
import { ino64, mtimeMs, sameStat } from './scan.js';
import type { SyncDb, TrackedFile } from './sync-db.js';

/** What applying a remote version needs of its sync folder. */
export interface RemoteTarget {
  readonly ctx: ArchiveContext;
  readonly db: SyncDb;
  readonly snapshots: FolderSnapshots;
  readonly id: string;
  readonly root: string;
  readonly device: string;
  readonly now: () => number;
  /** Records the folder's local changes (all, or those under `paths`) as a sync does. */
  syncNow(paths?: readonly string[]): Promise<unknown>;
  activity(kind: SyncActivity['kind'], path: string, detail?: string, hash?: string): void;
}

/**
 * A version of `rel` arrived from elsewhere (a peer). If the file on disk is as last synced, it is
 * replaced (temp file, rename). If it changed locally since, both are kept: the local edit is
 * stored as a version first, the newer of the two keeps the name and the other is written beside
 * it as `name.sync-conflict-YYYYMMDD-HHMMSS-<device>.ext`. Runs in the folder's queue.
 */
export async function applyRemoteVersion(
  t: RemoteTarget,
  rel: string,
  hash: string,
  origin: string,
): Promise<'written' | 'conflict'> {
  const remote = getBlock(t.ctx, hash);
  if (remote.header.kind !== 'file') throw new SyncFolderError(`${hash} is a ${remote.header.kind} block, not a file`);
  const abs = join(t.root, rel);
  const base = t.db.trackedOne(t.id, rel);
  const disk = lstatSync(abs, { bigint: true, throwIfNoEntry: false });
  const changedLocally = disk
    ? !base || !sameStat(base, disk)
    : false; /* deleted locally: the remote version simply comes back */
  const remoteMtime = Number(remote.header.meta.mtime ?? 0);
  const ts = t.now();
  if (!changedLocally) {
    const st = await writeBlockIntoFolder(t.ctx, remote, abs, disk ?? 'absent');
    await recordRemote(t, rel, remote.seq, st, origin, ts, base ? 'changed' : 'added', hash);
    return 'written';
  }
  // Keep the local edit first: it becomes a version whatever happens next.
  await t.syncNow([rel]);
  const local = t.db.trackedOne(t.id, rel)!;
  const localWins = mtimeMs(local.mtimeNs) >= remoteMtime;
  if (localWins) {
    const copy = join(t.root, conflictName(rel, new Date(ts), origin));
    await writeBlockIntoFolder(t.ctx, remote, copy, 'absent');
    t.activity('conflict', rel, `kept the local version; the remote one from ${origin} is ${basename(copy)}`, hash);
  } else {
    const copy = join(t.root, conflictName(rel, new Date(ts), t.device));
    renameSync(abs, copy);
    const st = await writeBlockIntoFolder(t.ctx, remote, abs, 'absent');
    await recordRemote(t, rel, remote.seq, st, origin, ts, 'changed', hash);
    t.activity('conflict', rel, `took the newer version from ${origin}; the local one is ${basename(copy)}`, hash);
  }
  // The conflict copy is a new file of the folder: record it now.
  await t.syncNow();
  return 'conflict';
}

async function recordRemote(
  t: RemoteTarget,
  rel: string,
  seq: number,
  st: BigIntStats,
  origin: string,
  ts: number,
  kind: 'added' | 'changed',
  hash: string,
): Promise<void> {
  const file: TrackedFile = {
    path: rel,
    kind: 'file',
    seq,
    size: Number(st.size),
    mtimeNs: st.mtimeNs,
    ino: ino64(st),
    mode: Number(st.mode),
  };
  const tracked = t.db.tracked(t.id);
  tracked.set(rel, file);
  const snap = await t.snapshots.write(tracked);
  await t.db.record(t.id, snap.seq, ts, [{ type: 'put', file, origin }], {
    added: kind === 'added' ? 1 : 0,
    changed: kind === 'changed' ? 1 : 0,
    deleted: 0,
  });
  t.activity(kind, rel, `from ${origin}`, hash);
}
