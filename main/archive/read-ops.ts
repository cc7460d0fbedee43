import {
  closeSync,
  fchmodSync,
  fsyncSync,
  futimesSync,
  mkdirSync,
  openSync,
  renameSync,
  unlinkSync,
  writeSync,
  lstatSync,
  symlinkSync,
  chmodSync,
  utimesSync,
} from 'node:fs';
import { randomBytes } from 'node:crypto';
import type { Statement } from 'better-sqlite3';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { equalBytes, toHex } from '../../shared/bytes.js';
import { merkleRoot } from '../../shared/merkle.js';
import type { BlockRecord } from '../dag/block-index.js';
import { nodeSha256 } from '../util/sha256.js';
import { checkFileName, checkRelativePath } from '../util/safe-path.js';
import { inSnapshot } from '../db/database.js';
import { getBlock, type ArchiveContext } from './context.js';
import { ObjectCorruptError, UnsafePathError } from './errors.js';
import { nextTurn } from '../util/next-turn.js';
import { decodeSnapshot, type SnapshotEntry } from './snapshot.js';

/**
 * Checks an object's chunk list against its header (count and content root) before any byte is
 * returned, so a damaged index can never make us return the wrong chunks.
 */
/**
 * Temporary names: random once per process, then a counter (drawing random bytes per file cost 14 µs
 * each, 0.5 s of a 34,000-file restore). A leftover of a crashed process never has the same tag.
 */
const tmpTag = randomBytes(6).toString('hex');
let tmpCounter = 0;

const chunkListStatements = new WeakMap<ArchiveContext, Statement<[number], { rid: number; id: Buffer }>>();

function chunkList(ctx: ArchiveContext, b: BlockRecord): number[] {
  let stmt = chunkListStatements.get(ctx);
  if (!stmt) {
    stmt = ctx.db.prepare(
      'SELECT c.rid, c.id FROM object_chunks o JOIN chunks c ON c.rid = o.chunk WHERE o.seq = ? ORDER BY o.idx',
    );
    chunkListStatements.set(ctx, stmt);
  }
  const rows = stmt.all(b.seq);
  const name = toHex(b.hash);
  if (rows.length !== b.header.chunkCount)
    throw new ObjectCorruptError(
      `object ${name}: index lists ${rows.length} chunks, its block says ${b.header.chunkCount}`,
    );
  if (
    !equalBytes(
      merkleRoot(
        rows.map((r) => r.id),
        nodeSha256,
      ),
      b.header.contentRoot,
    )
  )
    throw new ObjectCorruptError(`object ${name}: chunk list does not match the block's content root`);
  return rows.map((r) => r.rid);
}

/**
 * The object's original bytes, chunk by chunk. Every chunk is re-hashed on read; a corrupt or
 * missing chunk ends the stream with ObjectCorruptError naming the object — its bytes are never
 * returned.
 */
export async function* readObject(ctx: ArchiveContext, hash: string | Uint8Array): AsyncGenerator<Buffer> {
  const b = getBlock(ctx, hash);
  yield* readBlockContent(ctx, b);
}

export async function* readBlockContent(ctx: ArchiveContext, b: BlockRecord): AsyncGenerator<Buffer> {
  const rids = chunkList(ctx, b);
  let total = 0;
  let sinceYield = 0;
  for (const rid of rids) {
    const data = readChunk(ctx, b, rid);
    total += data.length;
    sinceYield += data.length;
    yield data;
    // Let the event loop breathe on large objects.
    if (sinceYield > 8 << 20) {
      sinceYield = 0;
      await new Promise((r) => setImmediate(r));
    }
  }
  checkTotal(b, total);
}

/** One of the object's chunks, verified; a failure names the object. */
function readChunk(ctx: ArchiveContext, b: BlockRecord, rid: number): Buffer {
  try {
    return ctx.chunks.readByRid(rid);
  } catch (e) {
    throw new ObjectCorruptError(`object ${toHex(b.hash)}: ${(e as Error).message}`);
  }
}

function checkTotal(b: BlockRecord, total: number): void {
  if (total !== b.header.size)
    throw new ObjectCorruptError(`object ${toHex(b.hash)}: read ${total} bytes, its block says ${b.header.size}`);
}

export async function readAll(ctx: ArchiveContext, b: BlockRecord): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const p of readBlockContent(ctx, b)) parts.push(p);
  return Buffer.concat(parts);
}

/** Attributes a restored file gets before it is renamed into place (on its descriptor: no path lookups). */
export interface FileAttrs {
  readonly mode?: number;
  /** Modification (and access) time, ms since the epoch. */
  readonly mtimeMs?: number;
}

function tmpSibling(file: string): string {
  return join(dirname(file), `.${basename(file)}.pakit-${tmpTag}-${++tmpCounter}.tmp`);
}

function writeAll(fd: number, data: Buffer): void {
  for (let done = 0; done < data.length;) done += writeSync(fd, data, done, data.length - done);
}

function finishFile(fd: number, attrs: FileAttrs, durable: boolean): void {
  if (attrs.mode !== undefined) fchmodSync(fd, attrs.mode);
  if (attrs.mtimeMs !== undefined) futimesSync(fd, new Date(attrs.mtimeMs), new Date(attrs.mtimeMs));
  if (durable) fsyncSync(fd);
}

/**
 * Writes an object to `file` through a temporary sibling renamed into place only once every byte
 * was verified: a failed read leaves nothing behind and never clobbers an existing file half-way.
 */
export async function writeObjectToFile(
  ctx: ArchiveContext,
  b: BlockRecord,
  file: string,
  attrs: FileAttrs = {},
  durable = true,
): Promise<void> {
  const tmp = tmpSibling(file);
  const fd = openSync(tmp, 'wx', attrs.mode ?? 0o644);
  try {
    for await (const chunk of readBlockContent(ctx, b)) writeAll(fd, chunk);
    // A whole-tree restore skips the per-file fsync (as borg and restic do): the rename still means
    // no half-written file is ever visible, and the archive itself is the durable copy.
    finishFile(fd, attrs, durable);
    closeSync(fd);
  } catch (e) {
    closeSync(fd);
    unlinkSync(tmp);
    throw e;
  }
  renameSync(tmp, file);
}

/**
 * {@link writeObjectToFile} for a small object, synchronously and not durable (a tree restore's
 * files): run inside one read snapshot with others, its reads take SQLite's WAL read lock once for
 * all of them instead of once per statement (see inSnapshot).
 */
function writeSmallObjectToFile(ctx: ArchiveContext, b: BlockRecord, file: string, attrs: FileAttrs): void {
  const rids = chunkList(ctx, b);
  const tmp = tmpSibling(file);
  const fd = openSync(tmp, 'wx', attrs.mode ?? 0o644);
  try {
    let total = 0;
    for (const rid of rids) {
      const data = readChunk(ctx, b, rid);
      total += data.length;
      writeAll(fd, data);
    }
    checkTotal(b, total);
    finishFile(fd, attrs, false);
    closeSync(fd);
  } catch (e) {
    closeSync(fd);
    unlinkSync(tmp);
    throw e;
  }
  renameSync(tmp, file);
}

/**
 * A tree restore writes files up to this size in batches, each inside one read snapshot and
 * synchronous; larger files stream, the event loop running between their chunks.
 */
const BATCH_FILE_BYTES = 8 << 20;
/** A batch takes files until it has run this long, then the event loop runs. */
const BATCH_MS = 10;

export interface RestoreSummary {
  readonly files: number;
  readonly dirs: number;
  readonly symlinks: number;
  readonly bytes: number;
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
 * Restores a snapshot (its whole tree) or a single file/symlink into `toDir`. Names that would
 * escape `toDir` (`..`, absolute paths, writes through symlinks) are refused before anything is
 * written.
 */
export async function restore(ctx: ArchiveContext, hash: string | Uint8Array, toDir: string): Promise<RestoreSummary> {
  const b = getBlock(ctx, hash);
  const root = resolve(toDir);
  mkdirSync(root, { recursive: true });
  const summary = { files: 0, dirs: 0, symlinks: 0, bytes: 0 };
  if (b.header.kind === 'file' || b.header.kind === 'symlink') {
    const name = b.header.meta.name ?? toHex(b.hash);
    const why = checkFileName(name);
    if (why) throw new UnsafePathError(`refusing file name ${JSON.stringify(name)}: ${why}`);
    await restoreEntry(ctx, b, join(root, name), {
      mode: b.header.meta.mode ? parseInt(b.header.meta.mode, 8) : undefined,
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
  const files = manifest.entries.filter((e) => e.type === 'file');
  /** Where `e` goes, checked and with its directory made. */
  const placed = (e: SnapshotEntry): string => {
    const p = join(root, e.path);
    assertInside(root, p, checked);
    const dir = dirname(p);
    if (!made.has(dir)) {
      mkdirSync(dir, { recursive: true });
      made.add(dir);
    }
    return p;
  };
  for (let i = 0; i < files.length;) {
    const e = files[i]!;
    if (e.size > BATCH_FILE_BYTES) {
      // A large file streams, the event loop running between its chunks.
      await restoreEntry(ctx, getBlock(ctx, e.hash), placed(e), { mode: e.mode, mtimeMs: e.mtime });
      summary.files++;
      summary.bytes += e.size;
      i++;
      continue;
    }
    const next = inSnapshot(ctx.db, () => {
      const start = performance.now();
      let j = i;
      do {
        const f = files[j]!;
        const b = getBlock(ctx, f.hash);
        if (b.header.kind !== 'file') break;
        writeSmallObjectToFile(ctx, b, placed(f), { mode: f.mode, mtimeMs: f.mtime });
        summary.files++;
        summary.bytes += f.size;
        j++;
      } while (j < files.length && files[j]!.size <= BATCH_FILE_BYTES && performance.now() - start < BATCH_MS);
      return j;
    });
    if (next > i) i = next;
    else {
      // The manifest says file, the block does not: restoreEntry decides, as it always has.
      await restoreEntry(ctx, getBlock(ctx, e.hash), placed(e), { mode: e.mode, mtimeMs: e.mtime });
      summary.files++;
      summary.bytes += e.size;
      i++;
    }
    await nextTurn();
  }
  // Symlinks last, so no file write can pass through one the snapshot itself created.
  for (const e of manifest.entries) {
    if (e.type !== 'symlink') continue;
    const p = join(root, e.path);
    assertInside(root, p, checked);
    mkdirSync(dirname(p), { recursive: true });
    if (lstatSync(p, { throwIfNoEntry: false })) unlinkSync(p);
    symlinkSync(e.target, p);
    summary.symlinks++;
  }
  // Directory modes and mtimes after their contents were written.
  for (const d of [...dirs].reverse()) {
    if (d.type !== 'dir') continue;
    const p = join(root, d.path);
    chmodSync(p, d.mode | 0o700);
    utimesSync(p, new Date(d.mtime), new Date(d.mtime));
  }
  return summary;
}

async function restoreEntry(ctx: ArchiveContext, b: BlockRecord, path: string, attrs: FileAttrs): Promise<void> {
  if (b.header.kind === 'symlink') {
    const target = (await readAll(ctx, b)).toString();
    if (lstatSync(path, { throwIfNoEntry: false })) unlinkSync(path);
    symlinkSync(target, path);
    return;
  }
  await writeObjectToFile(ctx, b, path, attrs, false);
}
