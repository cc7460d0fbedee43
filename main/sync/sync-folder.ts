import { existsSync, lstatSync, readdirSync, readlinkSync, realpathSync, renameSync, statSync } from 'node:fs';
import type { BigIntStats } from 'node:fs';
import { hostname } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import {
  initialSyncStatus,
  nextSyncStatus,
  type SyncActivity,
  type SyncEvent,
  type SyncStatus,
} from '../../shared/sync-status.js';
import type { Archive } from '../archive/archive.js';
import { getBlock } from '../archive/context.js';
import { readBlockContent } from '../archive/read-ops.js';
import { encodeSnapshotAsync, type SnapshotEntry } from '../archive/snapshot.js';
import { storeBytes, storeFile, storeSymlink, type Ingester, type StoreProblem } from '../archive/store-ops.js';
import { IgnoreRules, IGNORE_FILE } from './ignore-rules.js';
import { MARKER_FILE, readMarker, writeMarker } from './marker.js';
import { SyncDb, type Counts, type RecordedChange, type TrackedFile } from './sync-db.js';
import { conflictName, writeBlockIntoFolder } from './folder-write.js';

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

export class SyncFolderError extends Error {
  override readonly name = 'SyncFolderError';
  readonly code = 'ERR_SYNC_FOLDER';
}

export type StatusListener = (s: SyncStatus) => void;

interface Seen {
  readonly st: BigIntStats;
  readonly kind: 'file' | 'symlink';
}

interface Plan {
  /** New or changed paths to read. */
  readonly ingest: string[];
  /** new path → the vanished tracked file it was renamed from (same inode, size and mtime). */
  readonly renames: Map<string, TrackedFile>;
  readonly deletes: string[];
  readonly deferred: string[];
  unchanged: number;
}

/** Deletions recorded within this window count together for the mass-delete guard. */
const MASS_DELETE_WINDOW_MS = 120_000;

const ino64 = (st: BigIntStats): bigint => BigInt.asIntN(64, st.ino);
const mtimeMs = (ns: bigint): number => Number(ns / 1_000_000n);
const errCode = (e: unknown): string => (e as { code?: string })?.code ?? (e as Error)?.name ?? 'ERROR';
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
  readonly #archive: Archive;
  readonly #db: SyncDb;
  readonly #ing: Ingester;
  readonly #settleMs: number;
  readonly #rescanMs: number;
  readonly #debounceMs: number;
  readonly #massMin: number;
  readonly #now: () => number;
  #status: SyncStatus = initialSyncStatus();
  readonly #listeners = new Set<StatusListener>();
  readonly #activityListeners = new Set<(a: SyncActivity) => void>();
  #queue: Promise<unknown> = Promise.resolve();
  #confirmDeletes = false;
  #pendingPause: string | undefined;
  /** Deletions recorded lately: a mass deletion seen in several watch batches still counts as one. */
  #recentDeletes: { at: number; count: number }[] = [];
  #watcher?: FSWatcher;
  #dirty = new Set<string>();
  #debounce?: NodeJS.Timeout;
  #rescan?: NodeJS.Timeout;
  #closed = false;
  readonly #hashOfSeq = new Map<number, string>();
  readonly #linkTargets = new Map<number, string>();
  readonly #hashBySeq;

  private constructor(init: SyncFolderInit, id: string, root: string, device: string) {
    this.#archive = init.archive;
    this.root = root;
    this.id = id;
    this.device = device;
    this.#db = new SyncDb(init.archive.ctx.db);
    this.#ing = init.archive.ingester();
    this.#settleMs = init.settleMs ?? 1000;
    this.#rescanMs = init.rescanMs ?? 3_600_000;
    this.#debounceMs = init.debounceMs ?? 200;
    this.#massMin = init.massDeleteMinFiles ?? 10;
    this.#now = init.now ?? Date.now;
    this.#hashBySeq = init.archive.ctx.db.prepare('SELECT hash FROM blocks WHERE seq = ?').pluck();
  }

  /**
   * Opens (and on first use registers) a sync folder. The folder gets a marker,
   * `.pakit/folder-id`; a folder the archive knows whose marker is gone is not synced (an
   * unmounted drive must not look like everything deleted): the status says so.
   */
  static open(init: SyncFolderInit): SyncFolder {
    if (init.archive.readonly) throw new SyncFolderError('a sync folder needs the archive opened for writing');
    const given = resolve(init.root);
    if (!existsSync(given)) throw new SyncFolderError(`${given} does not exist`);
    if (!statSync(given).isDirectory()) throw new SyncFolderError(`${given} is not a directory`);
    const root = realpathSync(given);
    const data = realpathSync(init.archive.ctx.dir);
    if (root === data || root.startsWith(`${data}/`))
      throw new SyncFolderError(`${root} is inside the archive's own data directory`);
    if (data.startsWith(`${root}/`))
      throw new SyncFolderError(`the archive's data directory ${data} is inside ${root}: it would archive itself`);
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
    this.#confirmDeletes = true;
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
   * A version of `path` arrived from elsewhere (a peer). If the file on disk is as last synced, it
   * is replaced (temp file, rename). If it changed locally since, both are kept: the local edit is
   * stored as a version first, the newer of the two keeps the name and the other is written beside
   * it as `name.sync-conflict-YYYYMMDD-HHMMSS-<device>.ext`.
   */
  applyRemote(path: string, hash: string, origin: string): Promise<'written' | 'conflict'> {
    const run = this.#queue.then(() => this.#applyRemote(path, hash, origin));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #applyRemote(rel: string, hash: string, origin: string): Promise<'written' | 'conflict'> {
    const remote = getBlock(this.#archive.ctx, hash);
    if (remote.header.kind !== 'file')
      throw new SyncFolderError(`${hash} is a ${remote.header.kind} block, not a file`);
    const abs = join(this.root, rel);
    const base = this.#db.trackedOne(this.id, rel);
    const disk = lstatSync(abs, { bigint: true, throwIfNoEntry: false });
    const changedLocally = disk
      ? !base || !sameStat(base, disk)
      : false; /* deleted locally: the remote version simply comes back */
    const remoteMtime = Number(remote.header.meta.mtime ?? 0);
    const ts = this.#now();
    if (!changedLocally) {
      const st = await writeBlockIntoFolder(this.#archive.ctx, remote, abs, disk ?? 'absent');
      await this.#recordRemote(rel, remote.seq, st, origin, ts, base ? 'changed' : 'added', hash);
      return 'written';
    }
    // Keep the local edit first: it becomes a version whatever happens next.
    await this.#syncNow([rel]);
    const local = this.#db.trackedOne(this.id, rel)!;
    const localWins = mtimeMs(local.mtimeNs) >= remoteMtime;
    if (localWins) {
      const copy = join(this.root, conflictName(rel, new Date(ts), origin));
      await writeBlockIntoFolder(this.#archive.ctx, remote, copy, 'absent');
      this.#activity(
        'conflict',
        rel,
        `kept the local version; the remote one from ${origin} is ${basename(copy)}`,
        hash,
      );
    } else {
      const copy = join(this.root, conflictName(rel, new Date(ts), this.device));
      renameSync(abs, copy);
      const st = await writeBlockIntoFolder(this.#archive.ctx, remote, abs, 'absent');
      await this.#recordRemote(rel, remote.seq, st, origin, ts, 'changed', hash);
      this.#activity(
        'conflict',
        rel,
        `took the newer version from ${origin}; the local one is ${basename(copy)}`,
        hash,
      );
    }
    // The conflict copy is a new file of the folder: record it now.
    await this.#syncNow();
    return 'conflict';
  }

  async #recordRemote(
    rel: string,
    seq: number,
    st: BigIntStats,
    origin: string,
    ts: number,
    kind: 'added' | 'changed',
    hash: string,
  ): Promise<void> {
    const file: TrackedFile = {
      path: rel,
      kind: 'file',
      seq,
      size: Number(st.size),
      mtimeNs: st.mtimeNs,
      ino: ino64(st),
      mode: Number(st.mode),
    };
    const tracked = this.#db.tracked(this.id);
    tracked.set(rel, file);
    const snap = await this.#snapshot(tracked);
    await this.#db.record(this.id, snap.seq, ts, [{ type: 'put', file, origin }], {
      added: kind === 'added' ? 1 : 0,
      changed: kind === 'changed' ? 1 : 0,
      deleted: 0,
    });
    this.#activity(kind, rel, `from ${origin}`, hash);
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
    const empty = (): SyncSummary => ({
      state: this.#status.state,
      ...(this.#status.reason ? { reason: this.#status.reason } : {}),
      added: 0,
      changed: 0,
      deleted: 0,
      renamed: 0,
      unchanged: 0,
      deferred: 0,
      bytes: 0,
      seconds: (this.#now() - t0) / 1000,
      problems,
    });
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
    const seen = new Map<string, Seen>();
    /** Directories that could not be read: what was tracked under them is not deleted. */
    const unreadable: string[] = [];
    const problem = (rel: string, e: unknown): void => {
      const p = { path: rel, code: errCode(e), message: e instanceof Error ? e.message : String(e) };
      problems.push(p);
      this.#activity('error', rel, p.message);
    };
    // Which tracked paths this sync covers (all, or those under the changed paths).
    const scope: string[] = paths ? [...new Set(paths)] : [''];
    if (paths && paths.includes(IGNORE_FILE)) scope.splice(0, scope.length, '');
    let sinceYield = 0;
    const walk = async (relDir: string): Promise<void> => {
      let names: string[];
      try {
        names = readdirSync(relDir ? join(this.root, relDir) : this.root);
      } catch (e) {
        unreadable.push(relDir);
        problem(relDir || '.', e);
        return;
      }
      for (const name of names) {
        if (++sinceYield >= 256) {
          sinceYield = 0;
          await new Promise<void>((r) => setImmediate(r));
        }
        const rel = relDir ? `${relDir}/${name}` : name;
        await visit(rel);
      }
    };
    const visit = async (rel: string): Promise<void> => {
      let st: BigIntStats | undefined;
      try {
        st = lstatSync(join(this.root, rel), { bigint: true, throwIfNoEntry: false });
      } catch (e) {
        problem(rel, e);
        unreadable.push(rel);
        return;
      }
      if (!st) return;
      if (st.isDirectory()) {
        if (!rules.ignores(rel, true)) await walk(rel);
        return;
      }
      if (rules.ignores(rel)) return;
      if (st.isFile()) seen.set(rel, { st, kind: 'file' });
      else if (st.isSymbolicLink()) seen.set(rel, { st, kind: 'symlink' });
      // sockets, fifos, devices: not versioned
    };
    for (const s of scope) {
      if (s === '') await walk('');
      else await visit(s);
    }
    const inScope = (p: string): boolean =>
      scope.some((s) => s === '' || p === s || p.startsWith(`${s}/`)) &&
      !unreadable.some((u) => u === '' || p === u || p.startsWith(`${u}/`));

    const plan = await this.#plan(tracked, seen, inScope);
    this.#lastDeferred = plan.deferred;
    const since = this.#now() - MASS_DELETE_WINDOW_MS;
    this.#recentDeletes = this.#recentDeletes.filter((d) => d.at >= since);
    const lately = this.#recentDeletes.reduce((n, d) => n + d.count, 0);
    const trackedCount = tracked.size + lately;
    const deleting = plan.deletes.length + lately;
    if (
      plan.deletes.length > 0 &&
      !this.#confirmDeletes &&
      trackedCount >= this.#massMin &&
      deleting > trackedCount / 2
    ) {
      this.#emit({ type: 'confirmation-needed', count: deleting, of: trackedCount });
      return this.#summary(t0, problems, plan, { added: 0, changed: 0, deleted: 0 }, 0, 0);
    }

    const bytesTotal = plan.ingest.reduce((n, p) => n + Number(seen.get(p)!.st.size), 0);
    this.#emit({
      type: 'sync-started',
      at: this.#now(),
      filesTotal: plan.ingest.length + plan.renames.size,
      bytesTotal,
    });
    const changes: RecordedChange[] = [];
    const counts: Counts = { added: 0, changed: 0, deleted: 0 };
    let bytes = 0;
    let filesDone = 0;
    const progress = (): void => this.#emit({ type: 'progress', at: this.#now(), filesDone, bytesDone: bytes });

    // Renames first: the content is stored, so a new block with the new name reuses its chunks.
    for (const [to, from] of plan.renames) {
      const s = seen.get(to)!;
      const w = await this.#renamedBlock(from, to, s.st);
      changes.push({ type: 'put', file: trackedFrom(to, w.seq, s), origin: 'local' });
      changes.push({ type: 'delete', path: from.path, origin: 'local' });
      this.#activity('renamed', to, `from ${from.path}`, w.hash.toString('hex'));
      filesDone++;
    }

    // New and changed files, several in flight. A file holds its slot while it is read and chunked;
    // once its chunks are stored it only waits for its group commit, and many may wait at once
    // (as in store-tree.ts) — otherwise the commit delay would cap a sync at a few files a commit.
    const window = Math.max(2, this.#ing.pool.size * 16);
    let ingesting = 0;
    const slotFree: (() => void)[] = [];
    const all: Promise<void>[] = [];
    for (const rel of plan.ingest) {
      const s = seen.get(rel)!;
      while (ingesting >= window) await new Promise<void>((r) => slotFree.push(r));
      ingesting++;
      let released = false;
      const release = (): void => {
        if (released) return;
        released = true;
        ingesting--;
        slotFree.shift()?.();
      };
      const p = this.#ingestOne(rel, s, release).then(
        (r) => {
          filesDone++;
          if (!r) {
            plan.deferred.push(rel);
            return;
          }
          bytes += r.size;
          const was = tracked.get(rel);
          changes.push({ type: 'put', file: r.file, origin: 'local' });
          if (was) counts.changed++;
          else counts.added++;
          this.#activity(was ? 'changed' : 'added', rel, undefined, r.hash);
          if (filesDone % 64 === 0) progress();
        },
        (e: unknown) => {
          filesDone++;
          problem(rel, e);
        },
      );
      all.push(p.finally(release));
    }
    await Promise.all(all);
    progress();
    for (const rel of plan.deletes) {
      changes.push({ type: 'delete', path: rel, origin: 'local' });
      counts.deleted++;
      this.#activity('deleted', rel);
    }
    let snapshot: string | undefined;
    if (changes.length > 0) {
      const after = new Map(tracked);
      for (const c of changes) {
        if (c.type === 'put') after.set(c.file.path, c.file);
        else after.delete(c.path);
      }
      const snap = await this.#snapshot(after);
      await this.#db.record(this.id, snap.seq, this.#now(), changes, {
        added: counts.added + plan.renames.size,
        changed: counts.changed,
        deleted: counts.deleted + plan.renames.size,
      });
      snapshot = snap.hash.toString('hex');
      if (counts.deleted > 0) {
        if (this.#confirmDeletes) {
          this.#confirmDeletes = false;
          this.#recentDeletes = [];
        } else this.#recentDeletes.push({ at: this.#now(), count: counts.deleted });
      }
    }
    this.#lastDeferred = plan.deferred;
    this.#emit({ type: 'completed', at: this.#now() });
    return {
      ...this.#summary(t0, problems, plan, counts, bytes, plan.renames.size),
      ...(snapshot ? { snapshot } : {}),
    };
  }

  #summary(
    t0: number,
    problems: StoreProblem[],
    plan: Plan,
    counts: Counts,
    bytes: number,
    renamed: number,
  ): SyncSummary {
    return {
      state: this.#status.state,
      ...(this.#status.reason ? { reason: this.#status.reason } : {}),
      ...counts,
      renamed,
      unchanged: plan.unchanged,
      deferred: plan.deferred.length,
      bytes,
      seconds: (this.#now() - t0) / 1000,
      problems,
    };
  }

  async #plan(
    tracked: Map<string, TrackedFile>,
    seen: Map<string, Seen>,
    inScope: (p: string) => boolean,
  ): Promise<Plan> {
    let n = 0;
    const breathe = async (): Promise<void> => {
      if (++n % 2048 === 0) await new Promise<void>((r) => setImmediate(r));
    };
    const plan: Plan = { ingest: [], renames: new Map(), deletes: [], deferred: [], unchanged: 0 };
    const fresh = this.#now() - this.#settleMs;
    const added: string[] = [];
    for (const [rel, s] of seen) {
      await breathe();
      const t = tracked.get(rel);
      if (t && t.kind === s.kind && sameStat(t, s.st)) {
        plan.unchanged++;
        continue;
      }
      if (s.kind === 'file' && mtimeMs(s.st.mtimeNs) > fresh) {
        plan.deferred.push(rel);
        continue;
      }
      if (t) plan.ingest.push(rel);
      else added.push(rel);
    }
    const vanished = new Map<string, TrackedFile>();
    for (const [rel, t] of tracked) {
      await breathe();
      if (!seen.has(rel) && inScope(rel)) vanished.set(`${t.ino}:${t.size}:${t.mtimeNs}`, t);
    }
    for (const rel of added) {
      const s = seen.get(rel)!;
      const from = s.kind === 'file' ? vanished.get(`${ino64(s.st)}:${s.st.size}:${s.st.mtimeNs}`) : undefined;
      if (from && from.kind === 'file') {
        plan.renames.set(rel, from);
        vanished.delete(`${from.ino}:${from.size}:${from.mtimeNs}`);
      } else plan.ingest.push(rel);
    }
    for (const t of vanished.values()) plan.deletes.push(t.path);
    plan.deletes.sort();
    return plan;
  }

  /** Reads one new or changed path; undefined when it changed while being read (try again later). */
  async #ingestOne(
    rel: string,
    s: Seen,
    onIngested: () => void,
  ): Promise<{ file: TrackedFile; size: number; hash: string } | undefined> {
    const abs = join(this.root, rel);
    if (s.kind === 'symlink') {
      onIngested();
      const r = await storeSymlink(this.#ing, abs, s.st, readlinkSync(abs));
      const seq = getBlock(this.#archive.ctx, r.hash).seq;
      return { file: trackedFrom(rel, seq, s), size: r.size, hash: r.hash };
    }
    const r = await storeFile(this.#ing, abs, s.st, undefined, onIngested);
    const after = lstatSync(abs, { bigint: true, throwIfNoEntry: false });
    if (!after || after.size !== s.st.size || after.mtimeNs !== s.st.mtimeNs || ino64(after) !== ino64(s.st))
      return undefined;
    const seq = getBlock(this.#archive.ctx, r.hash).seq;
    return { file: trackedFrom(rel, seq, s), size: r.size, hash: r.hash };
  }

  /** A block for a renamed file made from the old block's chunks: nothing is read again. */
  async #renamedBlock(from: TrackedFile, to: string, st: BigIntStats) {
    const ctx = this.#archive.ctx;
    const old = ctx.index.bySeq(from.seq)!;
    const ids = ctx.db
      .prepare('SELECT c.id FROM object_chunks o JOIN chunks c ON c.rid = o.chunk WHERE o.seq = ? ORDER BY o.idx')
      .pluck()
      .all(from.seq) as Buffer[];
    return this.#ing.committer.submit(
      {
        kind: 'file',
        contentRoot: old.header.contentRoot,
        size: old.header.size,
        storedSize: old.header.storedSize,
        chunkCount: ids.length,
        codec: old.header.codec,
        meta: {
          ...old.header.meta,
          name: basename(to),
          mode: (Number(st.mode) & 0o7777).toString(8).padStart(4, '0'),
          mtime: String(mtimeMs(st.mtimeNs)),
        },
      },
      ids,
    );
  }

  /** Stores the folder's tree (every tracked file and link) as a snapshot block. */
  async #snapshot(files: Map<string, TrackedFile>) {
    const ctx = this.#archive.ctx;
    const entries: SnapshotEntry[] = [];
    let n = 0;
    for (const f of files.values()) {
      // Blocks never change, so their hashes (and link targets) are remembered between syncs: a
      // 30,000-file folder would otherwise cost a query per file on every small change.
      let hash = this.#hashOfSeq.get(f.seq);
      if (hash === undefined) {
        hash = (this.#hashBySeq.get(f.seq) as Buffer).toString('hex');
        this.#hashOfSeq.set(f.seq, hash);
      }
      const mtime = mtimeMs(f.mtimeNs);
      if (f.kind === 'symlink') {
        let target = this.#linkTargets.get(f.seq);
        if (target === undefined) {
          target = Buffer.concat(await collect(ctx, ctx.index.bySeq(f.seq)!)).toString();
          this.#linkTargets.set(f.seq, target);
        }
        entries.push({ path: f.path, type: 'symlink', mtime, target, hash });
      } else entries.push({ path: f.path, type: 'file', mode: f.mode & 0o7777, mtime, size: f.size, hash });
      if (++n % 1024 === 0) await new Promise<void>((r) => setImmediate(r));
    }
    // The sync's number makes each sync its own block, even when the tree is one seen before
    // (a restore back to an earlier state): the history records every sync.
    return storeBytes(this.#ing, await encodeSnapshotAsync(entries), 'snapshot', {
      entries: String(entries.length),
      folder: this.id,
      name: basename(this.root),
      sync: String(this.#db.snapshotCount(this.id) + 1),
    });
  }
}

async function collect(ctx: Archive['ctx'], b: ReturnType<typeof getBlock>): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for await (const c of readBlockContent(ctx, b)) out.push(c);
  return out;
}

function sameStat(t: TrackedFile, st: BigIntStats): boolean {
  return BigInt(t.size) === st.size && t.mtimeNs === st.mtimeNs && t.ino === ino64(st) && t.mode === Number(st.mode);
}

function trackedFrom(rel: string, seq: number, s: Seen): TrackedFile {
  return {
    path: rel,
    kind: s.kind,
    seq,
    size: Number(s.st.size),
    mtimeNs: s.st.mtimeNs,
    ino: ino64(s.st),
    mode: Number(s.st.mode),
  };
}
