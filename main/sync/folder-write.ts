import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  renameSync,
  unlinkSync,
  utimesSync,
  writeSync,
} from 'node:fs';
import type { BigIntStats } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import type { BlockRecord } from '../dag/block-index.js';
import type { ArchiveContext } from '../archive/context.js';
import { readBlockContent } from '../archive/read-ops.js';
import { recordedMtimeMs, utimeSeconds } from '../util/file-times.js';

export class FileChangedError extends Error {
  override readonly name = 'FileChangedError';
  readonly code = 'ERR_FILE_CHANGED';
}

/**
 * Writes a stored file into the folder at `abs`: into a temporary sibling first, then renamed over
 * the target only if the target is still what the caller last saw (`expected`: its stat, or
 * 'absent'). A file changed in the meantime is never clobbered: FileChangedError, and the temporary
 * file is removed. The mode and mtime recorded in the block are restored. Returns the new stat.
 */
export async function writeBlockIntoFolder(
  ctx: ArchiveContext,
  b: BlockRecord,
  abs: string,
  expected: BigIntStats | 'absent',
): Promise<BigIntStats> {
  if (b.header.kind !== 'file') throw new TypeError(`block is a ${b.header.kind}, not a file`);
  mkdirSync(dirname(abs), { recursive: true });
  const mode = b.header.meta.mode ? parseInt(b.header.meta.mode, 8) : 0o644;
  const tmp = join(dirname(abs), `.${basename(abs)}.pakit-${randomBytes(4).toString('hex')}.tmp`);
  const fd = openSync(tmp, 'wx', mode);
  try {
    for await (const chunk of readBlockContent(ctx, b)) writeSync(fd, chunk);
    fsyncSync(fd);
    closeSync(fd);
    const mtime = recordedMtimeMs(b.header.meta.mtime);
    if (mtime !== undefined) {
      const t = utimeSeconds(mtime);
      utimesSync(tmp, t, t);
    }
    const now = lstatSync(abs, { bigint: true, throwIfNoEntry: false });
    const unchanged =
      expected === 'absent'
        ? now === undefined
        : now !== undefined &&
          now.size === expected.size &&
          now.mtimeNs === expected.mtimeNs &&
          now.ino === expected.ino;
    if (!unchanged) throw new FileChangedError(`${abs} changed since it was read; not overwriting it`);
    renameSync(tmp, abs);
  } catch (e) {
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
    unlinkSync(tmp);
    throw e;
  }
  return lstatSync(abs, { bigint: true });
}

const pad = (n: number): string => String(n).padStart(2, '0');

/**
 * Syncthing's conflict naming, so people who know it recognise it:
 * `report.sync-conflict-20261125-143012-OFFICE2.pdf` (UTC time, the losing device's name).
 */
export function conflictName(rel: string, at: Date, device: string): string {
  const dir = dirname(rel);
  const base = basename(rel);
  const ext = extname(base);
  const stem = ext && ext !== base ? base.slice(0, -ext.length) : base;
  const stamp = `${at.getUTCFullYear()}${pad(at.getUTCMonth() + 1)}${pad(at.getUTCDate())}-${pad(at.getUTCHours())}${pad(at.getUTCMinutes())}${pad(at.getUTCSeconds())}`;
  const safeDevice = device.replace(/[^A-Za-z0-9._-]/g, '_') || 'device';
  const name = `${stem}.sync-conflict-${stamp}-${safeDevice}${ext === base ? '' : ext}`;
  return dir === '.' ? name : `${dir}/${name}`;
}
