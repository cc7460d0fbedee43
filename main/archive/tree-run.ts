// A store's files as it walks them: the slots they hold, the order their results are taken in,
// and each regular file's way through the store as one object (TreeFile).
import { lstatSync } from 'node:fs';
import { readlink } from 'node:fs/promises';
import type { BigIntStats } from 'node:fs';
import type { FileInfo } from '../store/types.js';
import { onAbort } from '../util/on-abort.js';
import type { CacheRow } from './file-cache.js';
import { InOrder, type Ordered } from './in-order.js';
import { IngestSlots } from './slots.js';
import type { SnapshotEntry } from './snapshot.js';
import { FileIngest, fastHit, mtimeMs, storeSymlink, type Ingester, type StoreResult } from './store-ops.js';

/** A stored file's result and its snapshot entry. */
export interface Stored {
  readonly result: StoreResult;
  readonly entry: SnapshotEntry;
}

/**
 * What the files of one store share: the ingest slots they hold while read, the walk order their
 * results are taken in, and where problems go. Regular files go through the store as TreeFiles (one
 * object each, see FileIngest); a file found unchanged is taken at once; the rare others (symlinks,
 * files that became something else) as promises.
 */
export class TreeRun {
  readonly slots: IngestSlots;
  readonly order: InOrder<Stored>;
  #stopped = false;

  constructor(
    readonly ing: Ingester,
    window: number,
    take: (v: Stored) => void,
    private readonly onProblem: (path: string, e: unknown) => void,
  ) {
    this.slots = new IngestSlots(window);
    this.order = new InOrder(take);
  }

  /**
   * Runs `work` with `signal` stopping the files still being read (each then fails, as a problem):
   * one listener for the whole store rather than one per file. If `work` fails (aborted, say),
   * nothing more is told: files still committing commit, but the store has returned.
   */
  async during<T>(signal: AbortSignal | undefined, work: () => Promise<T>): Promise<T> {
    const stopListening = onAbort(signal, (reason) =>
      this.order.forEachPending((item) => {
        if (item instanceof TreeFile) item.cancel(reason);
      }),
    );
    try {
      return await work();
    } catch (e) {
      this.#stopped = true;
      this.order.fail(e);
      throw e;
    } finally {
      stopListening();
    }
  }

  problem(path: string, e: unknown): void {
    if (this.#stopped) return;
    try {
      this.onProblem(path, e);
    } catch (thrown) {
      this.order.fail(thrown); // the store fails with it, as with a result's taker
    }
  }

  /**
   * A regular file the walk listed (its slot taken), without a stat when the fast-path cache has
   * no record of its path (a file never stored from there, as in a first store): the ingest
   * worker's fstat of the file it opened gives its size, mtime, inode and mode, and the main thread
   * saves an lstat per file. With a record, it is stat'ed for the fast path.
   */
  listed(path: string, absolute: string, rel: string, key: bigint, dirCache: ReadonlyMap<bigint, CacheRow>): void {
    const cached = dirCache.get(key);
    if (!cached) {
      this.#ingest(path, absolute, rel, key, undefined);
      return;
    }
    let st: BigIntStats;
    try {
      st = lstatSync(path, { bigint: true });
    } catch (e) {
      this.slots.give();
      this.problem(path, e);
      return;
    }
    this.known(path, absolute, rel, st, cached, key);
  }

  /** A file (its slot taken) by its stat, and its fast-path record if any; `key` is pathKey(absolute). */
  known(path: string, absolute: string, rel: string, st: BigIntStats, cached: CacheRow | undefined, key: bigint): void {
    if (!st.isFile()) {
      this.#other(path, rel, st);
      return;
    }
    const hit = fastHit(cached, st, path);
    if (hit) {
      this.slots.give();
      this.order.add({ done: true, value: { result: hit, entry: fileEntry(rel, st, hit) } });
      return;
    }
    this.#ingest(path, absolute, rel, key, st);
  }

  #ingest(path: string, absolute: string, rel: string, key: bigint, st: BigIntStats | undefined): void {
    const file = new TreeFile(this, path, absolute, key, st, rel);
    this.order.add(file);
    file.start();
  }

  /** A symlink, or what is neither file nor directory (refused, as a problem). */
  #other(path: string, rel: string, st: BigIntStats): void {
    this.order.addPromise(
      storeOther(this.ing, path, st, rel).then(
        (v) => {
          this.slots.give();
          return v;
        },
        (e: unknown) => {
          this.slots.give();
          this.problem(path, e);
          return undefined;
        },
      ),
    );
  }
}

/** A regular file of a store, its own entry in the walk order. */
class TreeFile extends FileIngest implements Ordered<Stored>, Stored {
  done = false;
  value: Stored | undefined = undefined;
  result!: StoreResult;
  entry!: SnapshotEntry;

  constructor(
    private readonly run: TreeRun,
    path: string,
    abs: string,
    key: bigint,
    st: FileInfo | undefined,
    private readonly rel: string,
  ) {
    super(run.ing, path, abs, key, st);
  }

  protected read(): void {
    this.run.slots.give();
  }

  protected stored(result: StoreResult, st: FileInfo): void {
    this.result = result;
    this.entry = fileEntry(this.rel, st, result);
    this.run.order.settle(this, this);
  }

  protected lost(e: unknown): void {
    this.run.problem(this.path, e);
    this.run.order.settle(this, undefined);
  }
}

/** A symlink, stored as a link; anything else that is not a regular file is refused. */
async function storeOther(ing: Ingester, abs: string, st: BigIntStats, rel: string): Promise<Stored> {
  if (st.isSymbolicLink()) {
    const target = await readlink(abs);
    const result = await storeSymlink(ing, abs, st, target);
    return { result, entry: { path: rel, type: 'symlink', mtime: mtimeMs(st), target, hash: result.hash } };
  }
  throw Object.assign(new Error(`${abs} is not a regular file, directory or symlink; skipped`), { code: 'ESPECIAL' });
}

function fileEntry(rel: string, st: FileInfo, result: StoreResult): SnapshotEntry {
  return {
    path: rel,
    type: 'file',
    mode: Number(st.mode) & 0o7777,
    mtime: mtimeMs(st),
    size: result.size,
    hash: result.hash,
  };
}
