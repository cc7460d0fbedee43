import type { Db } from '../db/database.js';

/**
 * Main-thread time after which a transaction of `record` stops taking changes (the commit comes
 * on top). A fixed 1,000 changes per transaction held the main thread for up to 240 ms on a loaded
 * machine.
 */
const RECORD_SLICE_MS = 8;

export interface FolderRow {
  readonly id: string;
  readonly root: string;
  readonly device: string;
  readonly created: number;
}

/** A path as the folder held it at its last sync. */
export interface TrackedFile {
  readonly path: string;
  readonly kind: 'file' | 'symlink';
  readonly seq: number;
  readonly size: number;
  readonly mtimeNs: bigint;
  readonly ino: bigint;
  readonly mode: number;
}

export interface VersionRow {
  readonly path: string;
  readonly n: number;
  /** The version's block hash (hex); for a deletion, the snapshot that recorded it. */
  readonly hash: string;
  readonly deleted: boolean;
  readonly size: number;
  readonly ts: number;
  readonly origin: string;
}

export interface FileListRow {
  readonly path: string;
  readonly versions: number;
  readonly deleted: boolean;
  readonly size: number;
  readonly storedSize: number;
}

export interface FilePage {
  /** Paths matching the filter (all of the folder's without one). */
  readonly total: number;
  readonly items: FileListRow[];
}

export interface SnapshotRow {
  readonly hash: string;
  readonly ts: number;
  readonly added: number;
  readonly changed: number;
  readonly deleted: number;
}

/** One change recorded by a sync, written with its snapshot in one transaction. */
export type RecordedChange =
  | { readonly type: 'put'; readonly file: TrackedFile; readonly origin: string }
  | { readonly type: 'delete'; readonly path: string; readonly origin: string };

/** The sync tables (main/db/migrations/002-sync-folders.ts and 003). Readers and the writer share it. */
export class SyncDb {
  readonly #db: Db;
  readonly #tracked;
  readonly #trackedOne;

  constructor(db: Db) {
    this.#db = db;
    this.#tracked = db
      .prepare('SELECT path, kind, seq, size, mtime_ns, ino, mode FROM sync_files WHERE folder = ?')
      .safeIntegers(true);
    this.#trackedOne = db
      .prepare('SELECT path, kind, seq, size, mtime_ns, ino, mode FROM sync_files WHERE folder = ? AND path = ?')
      .safeIntegers(true);
  }

  folders(): FolderRow[] {
    return this.#db.prepare('SELECT id, root, device, created FROM sync_folders ORDER BY root').all() as FolderRow[];
  }

  folder(id: string): FolderRow | undefined {
    return this.#db.prepare('SELECT id, root, device, created FROM sync_folders WHERE id = ?').get(id) as
      FolderRow | undefined;
  }

  folderByRoot(root: string): FolderRow | undefined {
    return this.#db.prepare('SELECT id, root, device, created FROM sync_folders WHERE root = ?').get(root) as
      FolderRow | undefined;
  }

  /** The folder whose root contains `abs` (the deepest one), with the path relative to it. */
  folderOf(abs: string): { folder: FolderRow; rel: string } | undefined {
    let best: FolderRow | undefined;
    for (const f of this.folders()) {
      if ((abs === f.root || abs.startsWith(`${f.root}/`)) && (!best || f.root.length > best.root.length)) best = f;
    }
    return best && { folder: best, rel: abs.slice(best.root.length + 1) };
  }

  upsertFolder(f: FolderRow): void {
    this.#db
      .prepare(
        `INSERT INTO sync_folders (id, root, device, created) VALUES (@id, @root, @device, @created)
         ON CONFLICT(id) DO UPDATE SET root = excluded.root, device = excluded.device`,
      )
      .run(f);
  }

  tracked(folder: string): Map<string, TrackedFile> {
    const out = new Map<string, TrackedFile>();
    for (const r of this.#tracked.all(folder) as RawTracked[]) out.set(r.path, fromRaw(r));
    return out;
  }

  trackedOne(folder: string, path: string): TrackedFile | undefined {
    const r = this.#trackedOne.get(folder, path) as RawTracked | undefined;
    return r && fromRaw(r);
  }

  /**
   * Records one sync's changes and its snapshot block. Large syncs are written in transactions of
   * about RECORD_SLICE_MS each with the event loop free in between (one transaction for a
   * 35,000-file first sync held the main thread for a third of a second). The snapshot row goes in
   * with the first batch; a crash between batches leaves the rest unrecorded, and the next sync finds those
   * files changed and records them (their chunks are already stored): nothing is lost.
   */
  async record(
    folder: string,
    snapshotSeq: number,
    ts: number,
    changes: readonly RecordedChange[],
    counts: Counts,
  ): Promise<void> {
    const nextN = this.#db
      .prepare('SELECT coalesce(max(n), 0) + 1 FROM sync_latest WHERE folder = ? AND path = ?')
      .pluck();
    const latest = this.#db.prepare(
      `INSERT INTO sync_latest (folder, path, folded, n, seq) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT(folder, path) DO UPDATE SET n = excluded.n, seq = excluded.seq`,
    );
    const version = this.#db.prepare(
      'INSERT INTO sync_versions (folder, path, n, seq, snapshot, ts, origin) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    const put = this.#db.prepare(
      `INSERT INTO sync_files (folder, path, kind, seq, size, mtime_ns, ino, mode) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT(folder, path) DO UPDATE SET kind = excluded.kind, seq = excluded.seq, size = excluded.size,
         mtime_ns = excluded.mtime_ns, ino = excluded.ino, mode = excluded.mode`,
    );
    const del = this.#db.prepare('DELETE FROM sync_files WHERE folder = ? AND path = ?');
    const snapshot = this.#db.prepare(
      'INSERT INTO sync_snapshots (folder, seq, ts, added, changed, deleted) VALUES (?, ?, ?, ?, ?, ?)',
    );
    // Records changes from `from` on until the time is up (at least one); returns where it stopped.
    const write = this.#db.transaction((from: number): number => {
      const start = performance.now();
      if (from === 0) snapshot.run(folder, snapshotSeq, ts, counts.added, counts.changed, counts.deleted);
      let i = from;
      while (i < changes.length && (i === from || performance.now() - start < RECORD_SLICE_MS)) {
        const c = changes[i++]!;
        const path = c.type === 'put' ? c.file.path : c.path;
        const seq = c.type === 'put' ? c.file.seq : null;
        const n = nextN.get(folder, path) as number;
        if (c.type === 'put') {
          const f = c.file;
          put.run(folder, f.path, f.kind, f.seq, f.size, f.mtimeNs, f.ino, f.mode);
        } else del.run(folder, c.path);
        version.run(folder, path, n, seq, snapshotSeq, ts, c.origin);
        latest.run(folder, path, path.toLowerCase(), n, seq);
      }
      return i;
    });
    let i = write.immediate(0);
    while (i < changes.length) {
      await new Promise<void>((r) => setImmediate(r));
      i = write.immediate(i);
    }
  }

  /** Every version of `path`, oldest first. */
  versions(folder: string, path: string): VersionRow[] {
    const rows = this.#db
      .prepare(
        `SELECT v.path, v.n, v.ts, v.origin, v.seq IS NULL AS deleted,
                coalesce(b.hash, s.hash) AS hash, coalesce(b.size, 0) AS size
         FROM sync_versions v
         LEFT JOIN blocks b ON b.seq = v.seq
         JOIN blocks s ON s.seq = v.snapshot
         WHERE v.folder = ? AND v.path = ? ORDER BY v.n`,
      )
      .all(folder, path) as (Omit<VersionRow, 'hash' | 'deleted'> & { hash: Buffer; deleted: number })[];
    return rows.map((r) => ({ ...r, hash: r.hash.toString('hex'), deleted: r.deleted === 1 }));
  }

  /**
   * One page of the paths with a history, in path order: each with its newest version's size (0
   * when deleted) and how many versions it has. `filter` keeps the paths that contain it, ignoring
   * case (as JavaScript folds it: 'ñ' finds 'Ñ'). Read from `sync_latest` (migration 003): a page
   * of 100,000 paths costs milliseconds.
   */
  filePage(folder: string, page: { offset: number; limit: number; filter?: string }): FilePage {
    const needle = page.filter ? page.filter.toLowerCase() : '';
    const where = needle ? 'folder = @folder AND instr(folded, @needle) > 0' : 'folder = @folder';
    const args = { folder, needle, limit: page.limit, offset: page.offset };
    const total = this.#db.prepare(`SELECT count(*) FROM sync_latest WHERE ${where}`).pluck().get(args) as number;
    const rows = this.#db
      .prepare(
        `SELECT l.path, l.n AS versions, l.seq IS NULL AS deleted,
                coalesce(b.size, 0) AS size, coalesce(b.stored_size, 0) AS storedSize
         FROM (SELECT path, n, seq FROM sync_latest WHERE ${where} ORDER BY path LIMIT @limit OFFSET @offset) l
         LEFT JOIN blocks b ON b.seq = l.seq
         ORDER BY l.path`,
      )
      .all(args) as (Omit<FileListRow, 'deleted'> & { deleted: number })[];
    return { total, items: rows.map((r) => ({ ...r, deleted: r.deleted === 1 })) };
  }

  snapshotCount(folder: string): number {
    return this.#db.prepare('SELECT count(*) FROM sync_snapshots WHERE folder = ?').pluck().get(folder) as number;
  }

  snapshots(folder: string): SnapshotRow[] {
    const rows = this.#db
      .prepare(
        `SELECT b.hash, s.ts, s.added, s.changed, s.deleted FROM sync_snapshots s JOIN blocks b ON b.seq = s.seq
         WHERE s.folder = ? ORDER BY s.seq`,
      )
      .all(folder) as (Omit<SnapshotRow, 'hash'> & { hash: Buffer })[];
    return rows.map((r) => ({ ...r, hash: r.hash.toString('hex') }));
  }
}

export interface Counts {
  added: number;
  changed: number;
  deleted: number;
}

interface RawTracked {
  path: string;
  kind: 'file' | 'symlink';
  seq: bigint;
  size: bigint;
  mtime_ns: bigint;
  ino: bigint;
  mode: bigint;
}

const fromRaw = (r: RawTracked): TrackedFile => ({
  path: r.path,
  kind: r.kind,
  seq: Number(r.seq),
  size: Number(r.size),
  mtimeNs: r.mtime_ns,
  ino: r.ino,
  mode: Number(r.mode),
});
