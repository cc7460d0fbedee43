/**
 * One directory of a sync folder, a page at a time: its subdirectories (with how many live files
 * each holds) and then its own files, each path with its newest version. Reads `sync_latest`
 * through the directory index of migration 005: a directory's files are one index range, and its
 * subdirectories are found by skipping from one to the next, so listing the root of a folder of
 * 100,000 files reads a few hundred index entries, not 100,000 rows.
 */
import type { Db } from '../db/database.js';
import type { DirEntryView } from '../../shared/ipc-contract.js';
import type { FileListRow } from './sync-db.js';

/** The expression migration 005 indexes: the path up to and including its last '/'. */
const DIR = "rtrim(path, replace(path, '/', ''))";

/** A subdirectory (with how many live files lie beneath) or a file: the contract's view of it. */
export type DirEntry = DirEntryView;

export interface DirPage {
  /** Subdirectories plus files. */
  readonly total: number;
  readonly dirs: number;
  readonly items: DirEntry[];
}

export class NotADirectoryError extends Error {
  override readonly name = 'NotADirectoryError';
  readonly code = 'ERR_NOT_A_DIRECTORY';
}

/** '' for the root, else 'a/b/' (one trailing slash, no leading one, no empty or dot segments). */
export function normalizeDir(dir: string): string {
  const parts = dir.split('/').filter((p) => p !== '');
  if (parts.some((p) => p === '.' || p === '..'))
    throw new NotADirectoryError(`${JSON.stringify(dir)}: a directory path has no . or .. segments`);
  return parts.length === 0 ? '' : `${parts.join('/')}/`;
}

/** The first string after every string that starts with `prefix` (which ends in '/'): '/' + 1 is '0'. */
const pastPrefix = (prefix: string): string => `${prefix.slice(0, -1)}0`;

export class FolderTree {
  readonly #db: Db;
  readonly #nextDir;
  readonly #fileCount;
  readonly #files;
  readonly #liveUnder;

  constructor(db: Db) {
    this.#db = db;
    this.#nextDir = db
      .prepare(`SELECT min(${DIR}) FROM sync_latest WHERE folder = @folder AND ${DIR} >= @lo AND ${DIR} < @hi`)
      .pluck();
    this.#fileCount = db.prepare(`SELECT count(*) FROM sync_latest WHERE folder = @folder AND ${DIR} = @dir`).pluck();
    this.#files = db.prepare(
      `SELECT l.path, l.n AS versions, l.seq IS NULL AS deleted,
              coalesce(b.size, 0) AS size, coalesce(b.stored_size, 0) AS storedSize
       FROM (SELECT path, n, seq FROM sync_latest INDEXED BY sync_latest_by_dir
             WHERE folder = @folder AND ${DIR} = @dir ORDER BY ${DIR}, path LIMIT @limit OFFSET @offset) l
       LEFT JOIN blocks b ON b.seq = l.seq
       ORDER BY l.path`,
    );
    this.#liveUnder = db
      .prepare(
        'SELECT count(*) FROM sync_latest WHERE folder = @folder AND path >= @lo AND path < @hi AND seq IS NOT NULL',
      )
      .pluck();
  }

  /** The subdirectories of `dir` (normalized), in path order (as the flat list sorts: 'a-b/' before 'a/'). */
  #subdirs(folder: string, dir: string): string[] {
    const out: string[] = [];
    // Strictly below `dir`: the smallest name character is U+0001 (paths hold no NUL).
    let lo = `${dir}\u0001`;
    const hi = dir === '' ? '\u{10FFFF}' : pastPrefix(dir);
    for (;;) {
      const next = this.#nextDir.get({ folder, lo, hi }) as string | null;
      if (next === null) return out;
      const name = next.slice(dir.length, next.indexOf('/', dir.length));
      out.push(name);
      lo = pastPrefix(`${dir}${name}/`);
    }
  }

  /** One page of `dir`: subdirectories first, then files, each in path order. */
  page(folder: string, dirPath: string, offset: number, limit: number): DirPage {
    const dir = normalizeDir(dirPath);
    const subdirs = this.#subdirs(folder, dir);
    const fileCount = this.#fileCount.get({ folder, dir }) as number;
    if (dir !== '' && subdirs.length === 0 && fileCount === 0)
      throw new NotADirectoryError(`${dir} is not a directory of the sync folder`);
    const items: DirEntry[] = [];
    for (const name of subdirs.slice(offset, offset + limit)) {
      const path = `${dir}${name}/`;
      const files = this.#liveUnder.get({ folder, lo: path, hi: pastPrefix(path) }) as number;
      items.push({ kind: 'dir', name, path, files });
    }
    const fileOffset = Math.max(0, offset - subdirs.length);
    const fileLimit = limit - items.length;
    if (fileLimit > 0) {
      const rows = this.#files.all({ folder, dir, offset: fileOffset, limit: fileLimit }) as (Omit<
        FileListRow,
        'deleted'
      > & { deleted: number })[];
      for (const r of rows)
        items.push({ ...r, kind: 'file', name: r.path.slice(dir.length), deleted: r.deleted === 1 });
    }
    return { total: subdirs.length + fileCount, dirs: subdirs.length, items };
  }

  /** How the directory queries run (for tests: index ranges, no scan of the folder). */
  plans(): string[] {
    return [this.#nextDir, this.#fileCount, this.#files].map((st) =>
      (
        this.#db
          .prepare(`EXPLAIN QUERY PLAN ${st.source}`)
          .all({ folder: 'f', lo: 'a', hi: 'b', dir: 'a/', offset: 0, limit: 1 }) as {
          detail: string;
        }[]
      )
        .map((r) => r.detail)
        .join('; '),
    );
  }
}
