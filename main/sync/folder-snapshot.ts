import { basename } from 'node:path';
import type { Statement } from 'better-sqlite3';
import type { ArchiveContext } from '../archive/context.js';
import { readAll } from '../archive/read-ops.js';
import type { SnapshotEntry } from '../archive/snapshot.js';
import { snapshotParts } from '../archive/manifest-writer.js';
import { storeBytes, type Ingester } from '../archive/store-ops.js';
import type { WrittenBlock } from '../dag/block-writer.js';
import { mtimeMs } from './scan.js';
import type { SyncDb, TrackedFile } from './sync-db.js';

/**
 * Writes a sync folder's tree (every tracked file and link) as a snapshot block. Blocks never
 * change, so their hashes and link targets are remembered between syncs: a 30,000-file folder
 * would otherwise cost a query per file on every small change.
 */
export class FolderSnapshots {
  readonly #ctx: ArchiveContext;
  readonly #ing: Ingester;
  readonly #db: SyncDb;
  readonly #folderId: string;
  readonly #name: string;
  readonly #hashOfSeq = new Map<number, string>();
  readonly #linkTargets = new Map<number, string>();
  readonly #hashBySeq: Statement;

  constructor(ing: Ingester, db: SyncDb, folderId: string, root: string) {
    this.#ctx = ing.ctx;
    this.#ing = ing;
    this.#db = db;
    this.#folderId = folderId;
    this.#name = basename(root);
    this.#hashBySeq = ing.ctx.db.prepare('SELECT hash FROM blocks WHERE seq = ?').pluck();
  }

  async write(files: ReadonlyMap<string, TrackedFile>): Promise<WrittenBlock> {
    const entries: SnapshotEntry[] = [];
    let n = 0;
    for (const f of files.values()) {
      let hash = this.#hashOfSeq.get(f.seq);
      if (hash === undefined) {
        hash = (this.#hashBySeq.get(f.seq) as Buffer).toString('hex');
        this.#hashOfSeq.set(f.seq, hash);
      }
      const mtime = mtimeMs(f.mtimeNs);
      if (f.kind === 'symlink') {
        let target = this.#linkTargets.get(f.seq);
        if (target === undefined) {
          target = (await readAll(this.#ctx, this.#ctx.index.bySeq(f.seq)!)).toString();
          this.#linkTargets.set(f.seq, target);
        }
        entries.push({ path: f.path, type: 'symlink', mtime, target, hash });
      } else entries.push({ path: f.path, type: 'file', mode: f.mode & 0o7777, mtime, size: f.size, hash });
      if (++n % 1024 === 0) await new Promise<void>((r) => setImmediate(r));
    }
    // The sync's number makes each sync its own block, even when the tree is one seen before
    // (a restore back to an earlier state): the history records every sync.
    return storeBytes(this.#ing, snapshotParts(entries), 'snapshot', {
      entries: String(entries.length),
      folder: this.#folderId,
      name: this.#name,
      sync: String(this.#db.snapshotCount(this.#folderId) + 1),
    });
  }
}
