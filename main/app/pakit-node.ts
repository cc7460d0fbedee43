import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { basename, isAbsolute, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Archive } from '../archive/archive.js';
import { UnsafePathError } from '../archive/errors.js';
import { checkFileName } from '../util/safe-path.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { DEFAULT_IGNORES, IGNORE_FILE } from '../sync/ignore-rules.js';
import { SyncFolder, SyncFolderError } from '../sync/sync-folder.js';
import { listVersions, restoreVersion } from '../sync/versions.js';
import { SyncDb } from '../sync/sync-db.js';
import { FolderTree, normalizeDir } from '../sync/folder-tree.js';
import { SOFTWARE } from '../util/version.js';
import { GrowthHistory } from '../archive/growth-history.js';
import type { EventName, Events, Handlers, NodeStatus, SettingsView } from '../../shared/ipc-contract.js';
import { blocksPage } from './block-views.js';
import { readNodeSettings, SETTINGS_FILE, updateNodeSettings } from './node-settings.js';
import { ChainService, DEFAULT_CHAIN_SETTINGS, type ChainSettings } from './chain-service.js';
import type { Signer, SignerSpec } from '../chain/signer.js';

export interface PakitNodeInit {
  /** The archive's data directory. */
  readonly dataDir: string;
  /**
   * A sync folder to keep (watched from start). Wins over the one in the settings file, and is
   * not written there. Without one, the settings file's folder is used.
   */
  readonly folder?: string;
  /** Passed to the sync folder (tests shorten the settle time). */
  readonly settleMs?: number;
  /**
   * Chain anchoring from the command line: wins over the settings file's (and is not written
   * there). Without it, the settings file's chain settings apply, with `signer` if one is given.
   */
  readonly chain?: Partial<ChainSettings> & { readonly endpoint: string };
  /** The key that signs anchors (held in memory only). */
  readonly signer?: SignerSpec | Signer;
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
  readonly handlers: Handlers;
  readonly #listeners = new Set<EventListener>();
  readonly #settleMs: number | undefined;
  readonly #syncDb: SyncDb;
  #folder: SyncFolder | undefined;
  #folderSource: SettingsView['folderSource'] = 'none';
  /** Why the settings file's folder could not be opened at start. */
  #folderProblem: string | null = null;
  #offFolder: (() => void) | undefined;
  /** Folder changes, one at a time. */
  #changing: Promise<unknown> = Promise.resolve();
  #growth: GrowthHistory | undefined;
  #tree: FolderTree | undefined;
  readonly chain: ChainService;

  private constructor(archive: Archive, init: PakitNodeInit, chain: ChainSettings | undefined) {
    this.archive = archive;
    this.#settleMs = init.settleMs;
    this.#syncDb = new SyncDb(archive.ctx.db);
    this.chain = new ChainService(archive, chain, (s) => this.#emit('chain.status', s));
    this.handlers = this.#makeHandlers();
  }

  /**
   * Opens the archive, then the sync folder — `init.folder`, else the settings file's — and
   * watches it (the first sync finishes before this returns). A bad `init.folder` is an error; a
   * settings file's folder that cannot be opened (a drive not mounted) leaves the node without one,
   * and the settings say why.
   */
  static async start(init: PakitNodeInit): Promise<PakitNode> {
    const settings = readNodeSettings(init.dataDir); // before the archive: a bad file opens nothing
    const archive = await Archive.open({ dir: init.dataDir });
    const chain = init.chain ? { ...DEFAULT_CHAIN_SETTINGS, enabled: true, ...init.chain } : settings.chain;
    const node = new PakitNode(archive, init, chain);
    try {
      const saved = settings.folder;
      if (init.folder !== undefined) node.#attach(node.#open(init.folder), 'command-line');
      else if (saved !== undefined) {
        try {
          node.#attach(node.#open(saved), 'settings');
        } catch (e) {
          node.#folderProblem = `the sync folder ${saved} (${SETTINGS_FILE}) could not be opened: ${(e as Error).message}`;
        }
      }
      await node.#folder?.watch();
      if (chain) await node.chain.configure(chain, init.signer);
      return node;
    } catch (e) {
      await node.chain.close();
      await node.#folder?.close();
      await archive.close();
      throw e;
    }
  }

  /** The sync folder, while there is one. */
  get folder(): SyncFolder | undefined {
    return this.#folder;
  }

  /** Why the saved sync folder could not be opened at start, if it could not. */
  get folderProblem(): string | null {
    return this.#folderProblem;
  }

  #open(root: string): SyncFolder {
    return SyncFolder.open({
      archive: this.archive,
      root,
      ...(this.#settleMs ? { settleMs: this.#settleMs } : {}),
    });
  }

  #attach(folder: SyncFolder, source: SettingsView['folderSource']): void {
    this.#folder = folder;
    this.#folderSource = source;
    this.#offFolder = folder.onStatus((s) => this.#emit('sync.status', s));
  }

  /**
   * Makes `path` the sync folder: checked first (an error changes nothing), then the old folder is
   * closed (its sync under way finishes), the new one opened, saved in the settings file and
   * watched. Its first sync runs in the background; its progress arrives as `sync.status` events.
   */
  setFolder(path: string): Promise<void> {
    const run = this.#changing.then(() => this.#setFolder(path));
    this.#changing = run.catch(() => undefined);
    return run;
  }

  async #setFolder(path: string): Promise<void> {
    if (!isAbsolute(path)) throw new SyncFolderError(`${path} is not an absolute path`);
    const root = SyncFolder.check(this.archive, path);
    const old = this.#folder;
    if (old?.root === root) {
      // Already the folder: only remember it.
      updateNodeSettings(this.archive.ctx.dir, { folder: root });
      return;
    }
    const next = this.#open(root);
    try {
      updateNodeSettings(this.archive.ctx.dir, { folder: root });
    } catch (e) {
      await next.close();
      throw e;
    }
    if (old) {
      this.#offFolder?.();
      await old.close();
    }
    this.#attach(next, 'settings');
    this.#folderProblem = null;
    this.#emit('node.status', this.#status());
    this.#emit('sync.status', next.status);
    void next.watch().catch((e: unknown) => this.#folderFailed(next, e));
  }

  #folderFailed(folder: SyncFolder, e: unknown): void {
    if (folder !== this.#folder) return;
    this.#folderProblem = `watching ${folder.root} failed: ${(e as Error).message}`;
    this.#emit('node.status', this.#status());
  }

  /**
   * Stops in reverse order: chain anchoring (an attempt under way finishes; a queued checkpoint
   * stays queued), the sync folder (its sync under way finishes), a checkpoint, the archive.
   */
  async stop(): Promise<void> {
    await this.chain.close();
    await this.#changing;
    await this.#folder?.close();
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
    if (!this.#folder)
      throw new NoSyncFolderError('no sync folder is configured (choose one in Settings, or pakit serve --folder DIR)');
    return this.#folder;
  }

  #status(): NodeStatus {
    return {
      version: SOFTWARE,
      archiveId: this.archive.id,
      dataDir: this.archive.ctx.dir,
      sync: this.#folder ? { root: this.#folder.root, status: this.#folder.status } : null,
    };
  }

  #settings(): SettingsView {
    const root = this.#folder?.root;
    return {
      dataDir: this.archive.ctx.dir,
      folder: root ?? null,
      folderSource: root ? this.#folderSource : 'none',
      folderProblem: this.#folderProblem,
      // The file's lines as they are (comments included), so saving them back loses nothing.
      ignorePatterns: root ? readIgnoreFile(root) : [],
      defaultIgnores: DEFAULT_IGNORES,
      chain: this.chain.settings,
    };
  }

  #makeHandlers(): Handlers {
    const archive = this.archive;
    return {
      'node.status': () => this.#status(),
      'chain.status': () => this.chain.status(),
      'chain.anchors': ({ limit }) => this.chain.anchors(limit),
      'chain.anchorNow': () => this.chain.anchorNow(),
      'chain.read': ({ receipt }) => this.chain.read(receipt),
      'settings.setChain': async ({ suri, ...settings }) => {
        // Checked and applied first (a bad endpoint or secret changes nothing), then saved.
        await this.chain.configure(settings, suri === undefined ? undefined : { suri });
        updateNodeSettings(this.archive.ctx.dir, { chain: settings });
        return this.#settings();
      },
      'archive.stats': () => archive.stats(),
      'archive.blocks': ({ offset, limit }) => blocksPage(archive.ctx.index, offset, limit),
      'archive.history': async ({ points }) => {
        this.#growth ??= new GrowthHistory(archive.ctx.db);
        await this.#growth.update();
        return {
          points: this.#growth.points(points).map(({ ts, ...p }) => ({ ...p, time: new Date(ts).toISOString() })),
        };
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
      'settings.setFolder': async ({ path }) => {
        await this.setFolder(path);
        return this.#settings();
      },
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
      'sync.dir': ({ dir, offset, limit }) => {
        const folder = this.#requireFolder();
        this.#tree ??= new FolderTree(archive.ctx.db);
        return { dir: normalizeDir(dir), offset, ...this.#tree.page(folder.id, dir, offset, limit) };
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
