import { chmodSync, lstatSync, lutimesSync, mkdirSync, symlinkSync, unlinkSync, utimesSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { toHex } from '../../shared/bytes.js';
import type { BlockRecord } from '../dag/block-index.js';
import { checkFileName, checkRelativePath } from '../util/safe-path.js';
import { recordedMtimeMs, utimeSeconds } from '../util/file-times.js';
import { getBlock, type ArchiveContext } from './context.js';
import { UnsafePathError } from './errors.js';
import { readAll, writeObjectToFile, type FileAttrs, type TreeFile } from './read-ops.js';
import { restoreFiles, type TreeRestoreOptions } from './restore-tree.js';
import { decodeSnapshot, type SnapshotEntry } from './snapshot.js';

export interface RestoreSummary {
  readonly files: number;
  readonly dirs: number;
  readonly symlinks: number;
  readonly bytes: number;
  /** Problems that cost time but lost nothing (see TreeRestoreResult.warnings). */
  readonly warnings: readonly string[];
}

/**
 * Refuses to write through a symlink inside the target: a manifest must not redirect writes
 * outside it. `checked` remembers directories already found to be real, so a tree of many files
 * costs one lstat per directory, not one per path component per file.
 */
function assertInside(root: string, path: string, checked: Set<string>): void {
  const full = resolve(path);
  if (full !== root && !full.startsWith(root + sep)) throw new UnsafePathError(`${path} would escape ${root}`);
  let cur = dirname(full);
  while (cur.length > root.length && !checked.has(cur)) {
    if (lstatSync(cur, { throwIfNoEntry: false })?.isSymbolicLink())
      throw new UnsafePathError(`${path}: ${cur} is a symlink; refusing to write through it`);
    checked.add(cur);
    cur = dirname(cur);
  }
}

/**
 * Restores a snapshot (its whole tree) or a single file/symlink into `toDir`, each with the mode
 * and mtime recorded (a symlink's own mtime, not its target's). Names that would escape `toDir`
 * (`..`, absolute paths, writes through symlinks) are refused before anything is written.
 */
export async function restore(
  ctx: ArchiveContext,
  hash: string | Uint8Array,
  toDir: string,
  opts: TreeRestoreOptions = {},
): Promise<RestoreSummary> {
  const b = getBlock(ctx, hash);
  const root = resolve(toDir);
  mkdirSync(root, { recursive: true });
  const summary = { files: 0, dirs: 0, symlinks: 0, bytes: 0, warnings: [] as readonly string[] };
  if (b.header.kind === 'file' || b.header.kind === 'symlink') {
    const name = b.header.meta.name ?? toHex(b.hash);
    const why = checkFileName(name);
    if (why) throw new UnsafePathError(`refusing file name ${JSON.stringify(name)}: ${why}`);
    await restoreEntry(ctx, b, join(root, name), {
      mode: b.header.meta.mode ? parseInt(b.header.meta.mode, 8) : undefined,
      mtimeMs: recordedMtimeMs(b.header.meta.mtime),
    });
    if (b.header.kind === 'file') summary.files++;
    else summary.symlinks++;
    summary.bytes += b.header.size;
    return summary;
  }
  if (b.header.kind !== 'snapshot')
    throw new UnsafePathError(`block ${toHex(b.hash)} is a ${b.header.kind} block: nothing to restore`);
  const manifest = decodeSnapshot(await readAll(ctx, b));
  // Validate every path before writing anything.
  for (const e of manifest.entries) {
    const why = checkRelativePath(e.path);
    if (why) throw new UnsafePathError(`refusing ${JSON.stringify(e.path)}: ${why}`);
  }
  const dirs = manifest.entries.filter((e) => e.type === 'dir');
  // Symlinks are only created after every file and directory, so a directory found real stays real.
  const checked = new Set<string>();
  for (const d of dirs) {
    const p = join(root, d.path);
    assertInside(root, p, checked);
    mkdirSync(p, { recursive: true });
    summary.dirs++;
  }
  const made = new Set<string>(dirs.map((d) => join(root, d.path)));
  /** Where a file goes, checked, its directory made. */
  const place = (e: SnapshotEntry & { type: 'file' }): TreeFile => {
    const path = join(root, e.path);
    assertInside(root, path, checked);
    const dir = dirname(path);
    if (!made.has(dir)) {
      mkdirSync(dir, { recursive: true });
      made.add(dir);
    }
    return { path, hash: e.hash, mode: e.mode, mtime: e.mtime, size: e.size };
  };
  const files = manifest.entries.filter((e) => e.type === 'file');
  const written = await restoreFiles(ctx, files, place, opts);
  summary.files += written.files;
  summary.bytes += written.bytes;
  summary.warnings = written.warnings;
  // Symlinks last, so no file write can pass through one the snapshot itself created.
  for (const e of manifest.entries) {
    if (e.type !== 'symlink') continue;
    const p = join(root, e.path);
    assertInside(root, p, checked);
    mkdirSync(dirname(p), { recursive: true });
    if (lstatSync(p, { throwIfNoEntry: false })) unlinkSync(p);
    symlinkSync(e.target, p);
    const t = utimeSeconds(e.mtime);
    lutimesSync(p, t, t);
    summary.symlinks++;
  }
  // Directory modes and mtimes after their contents were written.
  for (const d of [...dirs].reverse()) {
    if (d.type !== 'dir') continue;
    const p = join(root, d.path);
    chmodSync(p, d.mode | 0o700);
    const t = utimeSeconds(d.mtime);
    utimesSync(p, t, t);
  }
  return summary;
}

async function restoreEntry(ctx: ArchiveContext, b: BlockRecord, path: string, attrs: FileAttrs): Promise<void> {
  if (b.header.kind === 'symlink') {
    const target = (await readAll(ctx, b)).toString();
    if (lstatSync(path, { throwIfNoEntry: false })) unlinkSync(path);
    symlinkSync(target, path);
    if (attrs.mtimeMs !== undefined) {
      const t = utimeSeconds(attrs.mtimeMs);
      lutimesSync(path, t, t);
    }
    return;
  }
  await writeObjectToFile(ctx, b, path, attrs, false);
}
