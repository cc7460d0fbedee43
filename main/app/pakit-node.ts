import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Archive } from '../archive/archive.js';
import { UnsafePathError } from '../archive/errors.js';
import { checkFileName } from '../util/safe-path.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { DEFAULT_IGNORES, IGNORE_FILE } from '../sync/ignore-rules.js';
import { SyncFolder } from '../sync/sync-folder.js';
import { listVersions, restoreVersion } from '../sync/versions.js';
import { SyncDb } from '../sync/sync-db.js';
import { SOFTWARE } from '../util/version.js';
import type { EventName, Events, Handlers } from '../../shared/ipc-contract.js';

export interface PakitNodeInit {
  /** The archive's data directory. */
  readonly dataDir: string;
  /** A sync folder to keep (watched from start), if any. */
  readonly folder?: string;
  /** Passed to the sync folder (tests shorten the settle time). */
  readonly settleMs?: number;
}

function readIgnoreFile(root: string): string[] {
  try {
    const text = readFileSync(join(root, IGNORE_FILE), 'utf8').replace(/\n+$/, '');
    return text === '' ? [] : text.split(/\r?\n/);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}

export class NoSyncFolderError extends Error {
  override readonly name = 'NoSyncFolderError';
  readonly code = 'ERR_NO_SYNC_FOLDER';
}

export type EventListener = <E extends EventName>(name: E, payload: Events[E]) => void;

/**
 * The composition root: the services a Pakit node runs, started and stopped in order — the
 * archive, then the sync folder (later P2P and the chain). The Electron shell and `pakit serve`
 * both run one of these and expose its `handlers` (the IPC contract) and its events.
 */
export class PakitNode {
  readonly archive: Archive;
  readonly folder: SyncFolder | undefined;
  readonly handlers: Handlers;
  readonly #listeners = new Set<EventListener>();
  readonly #syncDb: SyncDb;

  private constructor(archive: Archive, folder: SyncFolder | undefined) {
    this.archive = archive;
    this.folder = folder;
    this.#syncDb = new SyncDb(archive.ctx.db);
    folder?.onStatus((s) => this.#emit('sync.status', s));
    this.handlers = this.#makeHandlers();
  }

  static async start(init: PakitNodeInit): Promise<PakitNode> {
    const archive = await Archive.open({ dir: init.dataDir });
    let folder: SyncFolder | undefined;
    try {
      if (init.folder !== undefined)
        folder = SyncFolder.open({ archive, root: init.folder, ...(init.settleMs ? { settleMs: init.settleMs } : {}) });
      const node = new PakitNode(archive, folder);
      await folder?.watch();
      return node;
    } catch (e) {
      await folder?.close();
      await archive.close();
      throw e;
    }
  }

  /** Stops in reverse order: the sync folder (its sync under way finishes), a checkpoint, the archive. */
  async stop(): Promise<void> {
    await this.folder?.close();
    this.archive.checkpoint(); // returns the newest when it already covers everything
    await this.archive.close();
  }

  /**
   * Archives one file that arrives as a stream (a drop on the served UI): written to a private
   * temporary folder under its own name, stored, and removed. Returns the receipt.
   */
  async storeUpload(
    name: string,
    body: NodeJS.ReadableStream,
  ): Promise<{ name: string; hash: string; size: number; storedSize: number }> {
    const why = checkFileName(name);
    if (why) throw new UnsafePathError(`refusing file name ${JSON.stringify(name)}: ${why}`);
    const dir = join(this.archive.ctx.dir, 'tmp', randomBytes(8).toString('hex'));
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    try {
      const file = join(dir, name);
      await pipeline(body, createWriteStream(file, { flags: 'wx', mode: 0o600 }));
      const { results, problems } = await this.archive.store([file]);
      if (problems.length > 0) throw new Error(`${name}: ${problems[0]!.message}`);
      const r = results[0]!;
      return { name, hash: r.hash, size: r.size, storedSize: r.storedSize };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  onEvent(fn: EventListener): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  #emit<E extends EventName>(name: E, payload: Events[E]): void {
    for (const l of this.#listeners) l(name, payload);
  }

  /** A path from the UI: absolute, or relative to the sync folder. */
  #inFolder(path: string): string {
    const root = this.#requireFolder().root;
    return path.startsWith('/') ? path : `${root}/${path}`;
  }

  #requireFolder(): SyncFolder {
    if (!this.folder) throw new NoSyncFolderError('no sync folder is configured (pakit serve --folder DIR)');
    return this.folder;
  }

  #settings() {
    const root = this.folder?.root;
    return {
      dataDir: this.archive.ctx.dir,
      folder: root ?? null,
      // The file's lines as they are (comments included), so saving them back loses nothing.
      ignorePatterns: root ? readIgnoreFile(root) : [],
      defaultIgnores: DEFAULT_IGNORES,
    };
  }

  #makeHandlers(): Handlers {
    const archive = this.archive;
    return {
      'node.status': () => ({
        version: SOFTWARE,
        archiveId: archive.id,
        dataDir: archive.ctx.dir,
        sync: this.folder ? { root: this.folder.root, status: this.folder.status } : null,
      }),
      'archive.stats': () => archive.stats(),
      'archive.recentBlocks': ({ limit }) => {
        const index = archive.ctx.index;
        const out = [];
        for (let seq = index.size() - 1; seq >= 0 && out.length < limit; seq--) {
          const b = index.bySeq(seq)!;
          const h = b.header;
          out.push({
            hash: b.hash.toString('hex'),
            seq,
            kind: h.kind,
            depth: h.depth,
            time: new Date(h.timestamp).toISOString(),
            size: h.size,
            storedSize: h.storedSize,
            name: h.meta.name ?? '',
            parents: h.parents.map((p) => Buffer.from(p).toString('hex')),
          });
        }
        return out;
      },
      'archive.proof': ({ hash, chunk }) => {
        // A proof needs a signed checkpoint that covers the object: sign one if the newest does not.
        archive.checkpoint();
        return archive.proof(hash, chunk === undefined ? {} : { chunk });
      },
      'archive.storePaths': async ({ paths }) => {
        const { results, problems } = await archive.store(paths);
        return {
          receipts: results
            .filter((r) => r.kind !== 'snapshot')
            .map((r) => ({ name: basename(r.path), hash: r.hash, size: r.size, storedSize: r.storedSize })),
          problems: problems.map((p) => ({ name: 'StoreError', code: p.code, message: `${p.path}: ${p.message}` })),
        };
      },
      'sync.pause': ({ reason }) => {
        this.#requireFolder().pause(reason);
        return null;
      },
      'sync.resume': () => {
        this.#requireFolder().resume();
        return null;
      },
      'settings.get': () => this.#settings(),
      'settings.setIgnore': async ({ patterns }) => {
        const folder = this.#requireFolder();
        const text = patterns.join('\n').replace(/\n+$/, '');
        writeFileAtomic(join(folder.root, IGNORE_FILE), text ? `${text}\n` : '');
        // The new rules apply from the next sync: run it now.
        await folder.sync();
        return this.#settings();
      },
      'sync.files': ({ offset, limit, filter }) => {
        const folder = this.#requireFolder();
        const page = this.#syncDb.filePage(folder.id, { offset, limit, ...(filter ? { filter } : {}) });
        return { total: page.total, offset, items: page.items };
      },
      'sync.restore': ({ path, hash }) => restoreVersion(archive, this.#inFolder(path), hash),
      'sync.versions': ({ path }) =>
        listVersions(archive, this.#inFolder(path)).versions.map((v) => ({
          hash: v.hash,
          time: new Date(v.ts).toISOString(),
          deleted: v.deleted,
          size: v.size,
          origin: v.origin,
        })),
    };
  }
}
