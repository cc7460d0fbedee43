import { existsSync, lstatSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { Archive } from '../archive/archive.js';
import { getBlock, parseHash } from '../archive/context.js';
import { UnsafePathError } from '../archive/errors.js';
import { FileChangedError, writeBlockIntoFolder } from './folder-write.js';
import { SyncDb, type FolderRow, type VersionRow } from './sync-db.js';

export class NotInSyncFolderError extends Error {
  override readonly name = 'NotInSyncFolderError';
  readonly code = 'ERR_NOT_IN_SYNC_FOLDER';
}

export class NotAVersionError extends Error {
  override readonly name = 'NotAVersionError';
  readonly code = 'ERR_NOT_A_VERSION';
}

/** Resolves a path the user typed (which may no longer exist) to its sync folder and relative path. */
export function locate(archive: Archive, path: string): { folder: FolderRow; rel: string; abs: string } {
  let abs = resolve(path);
  // The folder roots are stored as real paths; the path itself may be gone (a deleted file).
  const parent = dirname(abs);
  if (existsSync(parent)) abs = join(realpathSync(parent), basename(abs));
  const found = new SyncDb(archive.ctx.db).folderOf(abs);
  if (!found || found.rel === '') throw new NotInSyncFolderError(`${path} is not inside a sync folder of this archive`);
  return { ...found, abs };
}

export function listVersions(
  archive: Archive,
  path: string,
): { folder: FolderRow; rel: string; versions: VersionRow[] } {
  const { folder, rel } = locate(archive, path);
  const versions = new SyncDb(archive.ctx.db).versions(folder.id, rel);
  if (versions.length === 0) throw new NotInSyncFolderError(`${path} has no versions in sync folder ${folder.root}`);
  return { folder, rel, versions };
}

/**
 * Puts one version of a path back: into the folder (only if the file there is as last synced, or
 * gone — a change not yet synced is never overwritten), or to `to` (a file that must not exist, or
 * a directory). The running sync then records it as the path's newest version.
 */
export async function restoreVersion(
  archive: Archive,
  path: string,
  hash: string,
  to?: string,
): Promise<{ path: string; size: number }> {
  const { folder, rel, versions } = listVersions(archive, path);
  const want = Buffer.from(parseHash(hash)).toString('hex');
  const v = versions.find((x) => x.hash === want);
  if (!v) throw new NotAVersionError(`${want} is not a version of ${rel} (see pakit versions ${path})`);
  if (v.deleted) throw new NotAVersionError(`${want} records the deletion of ${rel}; restore an earlier version`);
  const b = getBlock(archive.ctx, want);
  if (to !== undefined) {
    let dest = resolve(to);
    if (existsSync(dest) && statSync(dest).isDirectory()) dest = join(dest, basename(rel));
    if (lstatSync(dest, { throwIfNoEntry: false })) throw new FileChangedError(`${dest} exists; not overwriting it`);
    await writeBlockIntoFolder(archive.ctx, b, dest, 'absent');
    return { path: dest, size: b.header.size };
  }
  const abs = join(folder.root, rel);
  const disk = lstatSync(abs, { bigint: true, throwIfNoEntry: false });
  if (disk && !disk.isFile() && !disk.isSymbolicLink())
    throw new UnsafePathError(`${abs} is not a file; not overwriting it`);
  const tracked = new SyncDb(archive.ctx.db).trackedOne(folder.id, rel);
  if (
    disk &&
    (!tracked ||
      BigInt(tracked.size) !== disk.size ||
      tracked.mtimeNs !== disk.mtimeNs ||
      tracked.ino !== BigInt.asIntN(64, disk.ino))
  )
    throw new FileChangedError(
      `${abs} has changes that are not synced yet; not overwriting them (sync first, or restore with --to)`,
    );
  await writeBlockIntoFolder(archive.ctx, b, abs, disk ?? 'absent');
  return { path: abs, size: b.header.size };
}
