import { existsSync, realpathSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import {
  initialSyncStatus,
  nextSyncStatus,
  type SyncActivity,
  type SyncEvent,
  type SyncStatus,
} from '../../shared/sync-status.js';
import type { Archive } from '../archive/archive.js';
import type { Ingester, StoreProblem } from '../archive/store-ops.js';
import { IgnoreRules, IGNORE_FILE } from './ignore-rules.js';
import { MARKER_FILE, readMarker, writeMarker } from './marker.js';
import { SyncDb, type Counts, type TrackedFile } from './sync-db.js';
import { FolderSnapshots } from './folder-snapshot.js';
import { errCode } from '../util/error-code.js';
import { planChanges, scanFolder, type Plan } from './scan.js';
import { storeChanges } from './store-changes.js';
import { SyncFolderError } from './errors.js';
import { MassDeleteGuard } from './mass-delete-guard.js';
import { applyRemoteVersion, type RemoteTarget } from './remote-version.js';

export interface SyncFolderInit {
  readonly archive: Archive;
  readonly root: string;
  /** This device's name, used in conflict copies. Default: the host name. */
  readonly device?: string;
  /** A file must be unmodified this long before it is read (a writer may still be at it). Default 1,000 ms. */
  readonly settleMs?: number;
  /** Full rescan interval while watching. Default one hour. */
  readonly rescanMs?: number;
  /** Watch events are gathered this long before a sync runs. Default 200 ms. */
  readonly debounceMs?: number;
  /** The mass-delete guard applies from this many tracked files. Default 10. */
  readonly massDeleteMinFiles?: number;
  /** Write a new marker with the known folder id when it is missing (the user says the folder is right). */
  readonly resetMarker?: boolean;
  readonly now?: () => number;
}

export interface SyncSummary {
  readonly state: SyncStatus['state'];
  readonly reason?: string;
  readonly added: number;
  readonly changed: number;
  readonly deleted: number;
  readonly renamed: number;
  readonly unchanged: number;
  /** Files still being written: left for a later sync. */
  readonly deferred: number;
  readonly bytes: number;
  readonly seconds: number;
  /** The snapshot block of this sync (when it changed anything). */
  readonly snapshot?: string;
  readonly problems: StoreProblem[];
}

export { SyncFolderError } from './errors.js';

export type StatusListener = (s: SyncStatus) => void;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * A folder kept in the archive: every local change becomes a new version of its path, every sync
 * that changed anything a snapshot block of the whole tree, and deletions are versions too (the
 * data stays).
 *
 * One sync runs at a time; watch events, rescans and remote versions queue behind it.
 */
export class SyncFolder {
  readonly root: string;
  readonly id: string;
  readonly device: string;
  readonly #db: SyncDb;
  readonly #ing: Ingester;
  readonly #settleMs: number;
  readonly #rescanMs: number;
  readonly #debounceMs: number;
  readonly #massDeletes: MassDeleteGuard;
  readonly #now: () => number;
  #status: SyncStatus = initialSyncStatus();
  readonly #listeners = new Set<StatusListener>();
  readonly #activityListeners = new Set<(a: SyncActivity) => void>();
  #queue: Promise<unknown> = Promise.resolve();
  #pendingPause: string | undefined;
  #watcher?: FSWatcher;
  #dirty = new Set<string>();
  #debounce?: NodeJS.Timeout;
  #rescan?: NodeJS.Timeout;
  #closed = false;
  readonly #snapshots: FolderSnapshots;
  readonly #remoteTarget: RemoteTarget;

  private constructor(init: SyncFolderInit, id: string, root: string, device: string) {
    this.root = root;
    this.id = id;
    this.device = device;
    this.#db = new SyncDb(init.archive.ctx.db);
    this.#ing = init.archive.ingester();
    this.#settleMs = init.settleMs ?? 1000;
    this.#rescanMs = init.rescanMs ?? 3_600_000;
    this.#debounceMs = init.debounceMs ?? 200;
    this.#now = init.now ?? Date.now;
    this.#massDeletes = new MassDeleteGuard(init.massDeleteMinFiles ?? 10, this.#now);
    this.#snapshots = new FolderSnapshots(this.#ing, this.#db, id, root);
    this.#remoteTarget = {
      ctx: init.archive.ctx,
      db: this.#db,
      snapshots: this.#snapshots,
      id,
      root,
      device,
      now: this.#now,
      syncNow: (paths) => this.#syncNow(paths),
      activity: (kind, path, detail, hash) => this.#activity(kind, path, detail, hash),
    };
  }

  /**
   * Whether `root` can be this archive's sync folder: it exists, is a directory, and neither holds
   * the archive's data directory nor lies inside it. Returns its real path; throws SyncFolderError
   * saying what is wrong. Changes nothing.
   */
  static check(archive: Archive, root: string): string {
    const given = resolve(root);
    if (!existsSync(given)) throw new SyncFolderError(`${given} does not exist`);
    if (!statSync(given).isDirectory()) throw new SyncFolderError(`${given} is not a directory`);
    const real = realpathSync(given);
    const data = realpathSync(archive.ctx.dir);
    if (real === data || real.startsWith(`${data}/`))
      throw new SyncFolderError(`${real} is inside the archive's own data directory`);
    if (data.startsWith(`${real}/`))
      throw new SyncFolderError(`the archive's data directory ${data} is inside ${real}: it would archive itself`);
    return real;
  }

  /**
   * Opens (and on first use registers) a sync folder. The folder gets a marker,
   * `.pakit/folder-id`; a folder the archive knows whose marker is gone is not synced (an
   * unmounted drive must not look like everything deleted): the status says so.
   */
  static open(init: SyncFolderInit): SyncFolder {
    if (init.archive.readonly) throw new SyncFolderError('a sync folder needs the archive opened for writing');
    const root = SyncFolder.check(init.archive, init.root);
    const db = new SyncDb(init.archive.ctx.db);
    const device = init.device ?? hostname();
    const known = db.folderByRoot(root);
    let marker = readMarker(root);
    let missing = false;
    if (!marker && known) {
      if (init.resetMarker) marker = writeMarker(root, known.id);
      else missing = true;
    }
    const id = marker ?? known?.id ?? writeMarker(root);
    db.upsertFolder({ id, root, device, created: known?.created ?? (init.now ?? Date.now)() });
    const f = new SyncFolder(init, id, root, device);
    if (missing)
      f.#emit({
        type: 'failed',
        reason: `${join(root, MARKER_FILE)} is missing: is the drive unmounted? Not syncing. If this is the right folder, run pakit sync with --reset-marker`,
      });
    return f;
  }

  get status(): SyncStatus {
    return this.#status;
  }

  onStatus(fn: StatusListener): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  /** Each activity as it happens (also kept in `status.recent`). */
  onActivity(fn: (a: SyncActivity) => void): () => void {
    this.#activityListeners.add(fn);
    return () => this.#activityListeners.delete(fn);
  }

  /** The next sync records deletions even if they are more than half of the folder. */
  confirmDeletes(): void {
    this.#massDeletes.confirm();
    if (this.#status.state === 'needs-confirmation') this.#emit({ type: 'confirmed' });
  }

  /** Stops syncing (a sync under way finishes first). Changes meanwhile are picked up on resume. */
  pause(reason = 'paused by the user'): void {
    const st = this.#status.state;
    if (st === 'scanning' || st === 'syncing') this.#pendingPause = reason;
    else this.#emit({ type: 'paused', reason });
  }

  resume(): void {
    this.#pendingPause = undefined;
    if (this.#status.state !== 'paused') return;
    this.#emit({ type: 'resumed' });
    // Watch events were not acted on while paused: look at everything.
    if (this.#watcher) void this.sync();
  }

  /**
   * Syncs the folder: the whole tree, or only `paths` (relative; a directory means everything
   * under it). Unchanged files (size, mtime, inode, mode) are not read.
   */
  sync(paths?: readonly string[]): Promise<SyncSummary> {
    const run = this.#queue.then(() => this.#syncNow(paths));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** Syncs until no file is left waiting to settle (for `pakit sync --once`). */
  async syncUntilSettled(maxMs = 60_000): Promise<SyncSummary> {
    const end = this.#now() + maxMs;
    let total = await this.sync();
    let deferredPaths = this.#lastDeferred;
    while (total.deferred > 0 && total.state === 'idle' && this.#now() < end) {
      await sleep(this.#settleMs);
      const next = await this.sync(deferredPaths);
      deferredPaths = this.#lastDeferred;
      total = {
        ...next,
        added: total.added + next.added,
        changed: total.changed + next.changed,
        deleted: total.deleted + next.deleted,
        renamed: total.renamed + next.renamed,
        unchanged: total.unchanged,
        bytes: total.bytes + next.bytes,
        seconds: total.seconds + next.seconds,
        snapshot: next.snapshot ?? total.snapshot,
        problems: [...total.problems, ...next.problems],
      };
    }
    return total;
  }

  #lastDeferred: string[] = [];

  /** Watches the folder: a full sync now, then on every change, and a full rescan every `rescanMs`. */
  async watch(): Promise<void> {
    if (this.#watcher) return;
    const watcher = watch(this.root, {
      ignoreInitial: true,
      followSymlinks: false,
      persistent: true,
      ignored: (p: string) => {
        if (p === this.root) return false;
        const rel = p.slice(this.root.length + 1);
        return rel === '.pakit' || rel.startsWith('.pakit/');
      },
    });
    this.#watcher = watcher;
    const touch = (p: string): void => {
      if (!p.startsWith(`${this.root}/`)) return;
      this.#dirty.add(p.slice(this.root.length + 1));
      this.#schedule(this.#debounceMs);
    };
    for (const ev of ['add', 'change', 'unlink', 'addDir', 'unlinkDir'] as const) watcher.on(ev, touch);
    watcher.on('error', (e) => this.#activity('error', '', (e as Error).message));
    await new Promise<void>((r) => watcher.once('ready', () => r()));
    await this.sync();
    const rescan = (): void => {
      this.#rescan = setTimeout(() => {
        void this.sync().finally(() => {
          if (!this.#closed) rescan();
        });
      }, this.#rescanMs);
    };
    rescan();
  }

  #schedule(ms: number): void {
    if (this.#debounce || this.#closed) return;
    this.#debounce = setTimeout(() => {
      this.#debounce = undefined;
      const paths = [...this.#dirty];
      this.#dirty.clear();
      if (paths.length > 0)
        void this.sync(paths).then((s) => {
          // Files still being written come back once they have settled.
          if (s.deferred > 0) {
            for (const p of this.#lastDeferred) this.#dirty.add(p);
            this.#schedule(this.#settleMs);
          }
        });
    }, ms);
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#debounce);
    clearTimeout(this.#rescan);
    await this.#watcher?.close();
    await this.#queue;
    await this.#ing.committer.flush();
  }

  /**
   * A version of `path` arrived from elsewhere (a peer): written over the file if it is as last
   * synced, else kept beside the local edit as a conflict copy (see applyRemoteVersion).
   */
  applyRemote(path: string, hash: string, origin: string): Promise<'written' | 'conflict'> {
    const run = this.#queue.then(() => applyRemoteVersion(this.#remoteTarget, path, hash, origin));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  #emit(e: SyncEvent): void {
    this.#status = nextSyncStatus(this.#status, e);
    for (const l of this.#listeners) l(this.#status);
  }

  #activity(kind: SyncActivity['kind'], path: string, detail?: string, hash?: string): void {
    const activity: SyncActivity = {
      at: this.#now(),
      kind,
      path,
      ...(detail ? { detail } : {}),
      ...(hash ? { hash } : {}),
    };
    this.#emit({ type: 'activity', activity });
    for (const l of this.#activityListeners) l(activity);
  }

  async #syncNow(paths?: readonly string[]): Promise<SyncSummary> {
    const t0 = this.#now();
    const problems: StoreProblem[] = [];
    const empty = (): SyncSummary => this.#summary(t0, problems);
    this.#lastDeferred = [];
    if (this.#closed && paths) return empty();
    const st = this.#status.state;
    if (st === 'paused') return empty();
    if (readMarker(this.root) !== this.id) {
      if (st !== 'error')
        this.#emit({
          type: 'failed',
          reason: `${join(this.root, MARKER_FILE)} is missing or belongs to another folder: is the drive unmounted? Not syncing.`,
        });
      return empty();
    }
    if (st === 'scanning' || st === 'syncing') throw new Error('internal: overlapping syncs');
    this.#emit({ type: 'scan-started', at: this.#now() });
    try {
      return await this.#scanAndRecord(paths, problems, t0);
    } catch (e) {
      this.#emit({ type: 'failed', reason: (e as Error).message });
      return { ...empty(), problems: [...problems, { path: this.root, code: errCode(e), message: String(e) }] };
    } finally {
      const reason = this.#pendingPause;
      this.#pendingPause = undefined;
      if (reason !== undefined) this.#emit({ type: 'paused', reason });
    }
  }

  async #scanAndRecord(
    paths: readonly string[] | undefined,
    problems: StoreProblem[],
    t0: number,
  ): Promise<SyncSummary> {
    const rules = IgnoreRules.load(this.root);
    const tracked = this.#db.tracked(this.id);
    const problem = (rel: string, e: unknown): void => {
      const p = { path: rel, code: errCode(e), message: e instanceof Error ? e.message : String(e) };
      problems.push(p);
      this.#activity('error', rel, p.message);
    };
    // Which tracked paths this sync covers (all, or those under the changed paths).
    const scope: string[] = paths ? [...new Set(paths)] : [''];
    if (paths && paths.includes(IGNORE_FILE)) scope.splice(0, scope.length, '');
    const scan = await scanFolder(this.root, rules, scope, problem);
    const seen = scan.seen;

    const plan = await planChanges(tracked, scan, this.#now() - this.#settleMs);
    this.#lastDeferred = plan.deferred;
    const ask = this.#massDeletes.check(tracked.size, plan.deletes.length);
    if (ask) {
      this.#emit({ type: 'confirmation-needed', ...ask });
      return this.#summary(t0, problems, { plan, counts: { added: 0, changed: 0, deleted: 0 }, bytes: 0, renamed: 0 });
    }

    const bytesTotal = plan.ingest.reduce((n, p) => n + Number(seen.get(p)!.st.size), 0);
    this.#emit({
      type: 'sync-started',
      at: this.#now(),
      filesTotal: plan.ingest.length + plan.renames.size,
      bytesTotal,
    });
    const { changes, counts, bytes } = await storeChanges(this.#ing, this.root, plan, scan.seen, tracked, {
      activity: (kind, path, detail, hash) => this.#activity(kind, path, detail, hash),
      problem,
      progress: (filesDone, bytesDone) => this.#emit({ type: 'progress', at: this.#now(), filesDone, bytesDone }),
    });
    let snapshot: string | undefined;
    if (changes.length > 0) {
      // Tens of thousands of entries on a first sync: copied and updated with the event loop free
      // every few thousand.
      const after = new Map<string, TrackedFile>();
      let n = 0;
      for (const [path, f] of tracked) {
        after.set(path, f);
        if (++n % 4096 === 0) await new Promise<void>((r) => setImmediate(r));
      }
      for (const c of changes) {
        if (c.type === 'put') after.set(c.file.path, c.file);
        else after.delete(c.path);
        if (++n % 4096 === 0) await new Promise<void>((r) => setImmediate(r));
      }
      const snap = await this.#snapshots.write(after);
      await this.#db.record(this.id, snap.seq, this.#now(), changes, {
        added: counts.added + plan.renames.size,
        changed: counts.changed,
        deleted: counts.deleted + plan.renames.size,
      });
      snapshot = snap.hash.toString('hex');
      this.#massDeletes.recorded(counts.deleted);
    }
    this.#lastDeferred = plan.deferred;
    this.#emit({ type: 'completed', at: this.#now() });
    return {
      ...this.#summary(t0, problems, { plan, counts, bytes, renamed: plan.renames.size }),
      ...(snapshot ? { snapshot } : {}),
    };
  }

  /** The summary of a sync; without `done`, of one that stopped before doing anything. */
  #summary(
    t0: number,
    problems: StoreProblem[],
    done?: { plan: Plan; counts: Counts; bytes: number; renamed: number },
  ): SyncSummary {
    return {
      state: this.#status.state,
      ...(this.#status.reason ? { reason: this.#status.reason } : {}),
      added: done?.counts.added ?? 0,
      changed: done?.counts.changed ?? 0,
      deleted: done?.counts.deleted ?? 0,
      renamed: done?.renamed ?? 0,
      unchanged: done?.plan.unchanged ?? 0,
      deferred: done?.plan.deferred.length ?? 0,
      bytes: done?.bytes ?? 0,
      seconds: (this.#now() - t0) / 1000,
      problems,
    };
  }
}
