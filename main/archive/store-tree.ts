import { lstatSync } from 'node:fs';
import { lstat } from 'node:fs/promises';
import type { BigIntStats } from 'node:fs';
import { basename, normalize, resolve } from 'node:path';
import { storeBytes, storeResult, mtimeMs, type Ingester, type StoreOptions, type StoreResult } from './store-ops.js';
import { cacheRecord, directoryCache, hasFastPathRecords, pathKey, type CacheRow } from './file-cache.js';
import { DirLister } from './dir-lister.js';
import { TreeRun } from './tree-run.js';
import { ManifestWriter } from './manifest-writer.js';
import { errCode } from '../util/error-code.js';

export interface StoreSummary {
  readonly results: StoreResult[];
  readonly problems: { path: string; code: string; message: string }[];
}

/**
 * Stores files and directories. A directory is walked recursively (symlinks recorded, not
 * followed), its files stored with several in flight, and then recorded as a snapshot block whose
 * content lists every entry's relative path, type, mode, mtime and hash. Results come back in walk
 * order; unreadable entries are reported through `onProblem` and left out, and the rest continues.
 */
export async function storePaths(
  ing: Ingester,
  paths: readonly string[],
  opts: StoreOptions = {},
): Promise<StoreSummary> {
  const summary: StoreSummary = { results: [], problems: [] };
  // Files being read and chunked at once: every worker's queue full (WORKER_DEPTH in ingest-pool.ts,
  // 96) and as many again waiting here, so that while large files keep the workers busy the walk
  // gets ahead on the main thread, which has time to spare then and none when small files come.
  // Storing the bench corpus (two workers), 512 against 256: medians of five or six alternating
  // stores 4.42, 4.50 and 4.40 s against 4.48, 4.55 and 4.53; 1,024 was no faster again.
  const window = Math.max(2, ing.pool.size * 256);
  let files = 0;
  let bytes = 0;
  const emit = (r: StoreResult): void => {
    summary.results.push(r);
    files++;
    bytes += r.size;
    opts.onResult?.(r);
    opts.onProgress?.({ type: 'pakit:store:progress', files, bytes });
  };
  const problem = (path: string, e: unknown): void => {
    const p = { path, code: errCode(e), message: e instanceof Error ? e.message : String(e) };
    summary.problems.push(p);
    opts.onProblem?.(p);
  };

  // Files named as arguments are stored together (those between two directories named), as a walk
  // stores a directory's files. Stored one after another, each waited out its own commit: 1,000
  // small files named on the command line took 8.8 s, against 0.78 s as one directory.
  let named: { path: string; st: BigIntStats }[] = [];
  const storeNamedFiles = async (): Promise<void> => {
    if (named.length === 0) return;
    const these = named;
    named = [];
    await storeFiles(ing, these, window, emit, problem, opts.signal);
  };
  for (const path of paths) {
    opts.signal?.throwIfAborted();
    let st: BigIntStats;
    try {
      st = await lstat(path, { bigint: true });
    } catch (e) {
      problem(path, e);
      continue;
    }
    if (st.isDirectory()) {
      await storeNamedFiles();
      const snap = await storeDirectory(ing, path, window, emit, problem, opts.signal);
      emit(snap);
    } else named.push({ path, st });
  }
  await storeNamedFiles();
  return summary;
}

/**
 * Stores files (and symlinks) named one by one, up to `window` being read at once, and emits their
 * results in the order named. The last ones commit at once: nothing else will share their commit.
 */
async function storeFiles(
  ing: Ingester,
  named: readonly { path: string; st: BigIntStats }[],
  window: number,
  emit: (r: StoreResult) => void,
  problem: (path: string, e: unknown) => void,
  signal?: AbortSignal,
): Promise<void> {
  const run = new TreeRun(ing, window, (v) => emit(v.result), problem);
  await run.during(signal, async () => {
    for (const { path, st } of named) {
      signal?.throwIfAborted();
      if (!run.slots.takeNow()) await run.slots.takeWhenFree();
      const absolute = resolve(path);
      const key = pathKey(absolute);
      run.known(path, absolute, basename(path), st, cacheRecord(ing.ctx, key), key);
    }
    await ing.committer.hurry(run.order.drain(0));
    signal?.throwIfAborted();
  });
}

const NO_RECORDS: ReadonlyMap<bigint, CacheRow> = new Map();

/** A UTF-16 surrogate: a character outside the Basic Multilingual Plane. */
const SURROGATE = /[\uD800-\uDFFF]/;

/**
 * A directory's names in byte order of their UTF-8, and whether each is a regular file, listed by
 * `lister` (in place while listings are fast, see DirLister). For names within the Basic
 * Multilingual Plane, UTF-16 order (JavaScript's `<`) is UTF-8 byte order; a name beyond it (a
 * surrogate pair, which sorts before U+E000–U+FFFF in UTF-16 but after in UTF-8) makes the whole
 * list compare as bytes, through latin1 strings (one character per byte).
 */
async function sortedNames(dir: string, lister: DirLister): Promise<{ name: string; file: boolean }[]> {
  const entries = await lister.list(dir);
  // A loop, not map(): see Committer's #append (walk reads this array in optimised code).
  const out: { name: string; file: boolean }[] = [];
  for (const e of entries) out.push({ name: e.name, file: e.isFile() });
  if (!out.some((e) => SURROGATE.test(e.name)))
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const bytes = new Map(out.map((e) => [e, Buffer.from(e.name).toString('latin1')]));
  return out.sort((a, b) => {
    const x = bytes.get(a)!;
    const y = bytes.get(b)!;
    return x < y ? -1 : x > y ? 1 : 0;
  });
}

async function storeDirectory(
  ing: Ingester,
  root: string,
  window: number,
  emit: (r: StoreResult) => void,
  problem: (path: string, e: unknown) => void,
  signal?: AbortSignal,
): Promise<StoreResult> {
  // The snapshot's manifest, written entry by entry as results come (ManifestWriter).
  const manifest = new ManifestWriter();
  // Two limits: at most `window` files are being read and chunked at once (they hold workers and
  // memory); files already ingested only wait for their group commit, and many may wait, so the
  // commit delay never throttles the walk (IngestSlots). Results are emitted in walk order as they
  // settle.
  const run = new TreeRun(
    ing,
    window,
    (v) => {
      emit(v.result);
      manifest.add(v.entry);
    },
    problem,
  );
  const results = run.order;

  // Depth-first walk in byte order of names, so output and snapshots are deterministic. Metadata
  // calls are synchronous: a few µs each from the inode cache, where an awaited thread-pool round
  // trip per entry left the walk idle a third of the time. It yields every 32 entries: a wake-up of
  // the main thread (a worker's results, say) resumes the walk, and with deep worker queues a walk
  // of 256 entries in that same task put the event loop's p99 at 44–58 ms.
  let sinceYield = 0;
  const anyRecords = hasFastPathRecords(ing.ctx);
  const lister = new DirLister();
  // `dir` as the caller wrote it (normalised: results show these paths) and `absDir` resolved, both
  // extended by plain concatenation, which for a directory entry's name is what join() would give.
  const child = (parent: string, name: string): string =>
    parent === '.' ? name : parent.endsWith('/') ? parent + name : `${parent}/${name}`;
  const walk = async (dir: string, absDir: string, rel: string): Promise<void> => {
    let names: { name: string; file: boolean }[];
    try {
      names = await sortedNames(dir, lister);
    } catch (e) {
      problem(dir, e);
      return;
    }
    // The fast-path records of the directory's files, read once (a first store has none to read).
    const dirCache = anyRecords ? directoryCache(ing.ctx, absDir) : NO_RECORDS;
    for (const { name, file } of names) {
      signal?.throwIfAborted();
      if (++sinceYield >= 32) {
        sinceYield = 0;
        await new Promise<void>((r) => setImmediate(r));
      }
      const abs = child(dir, name);
      const absolute = child(absDir, name);
      const relPath = rel ? `${rel}/${name}` : name;
      let st: BigIntStats | undefined;
      if (!file) {
        try {
          st = lstatSync(abs, { bigint: true });
        } catch (e) {
          problem(abs, e);
          continue;
        }
      }
      if (st?.isDirectory()) {
        manifest.add({ path: relPath, type: 'dir', mode: Number(st.mode) & 0o7777, mtime: mtimeMs(st) });
        await walk(abs, absolute, relPath);
        continue;
      }
      // A slot is taken here and given back once the file is read (or fails, or is found unchanged).
      if (!run.slots.takeNow()) await run.slots.takeWhenFree();
      const key = pathKey(absolute);
      if (st) run.known(abs, absolute, relPath, st, dirCache.get(key), key);
      else run.listed(abs, absolute, relPath, key, dirCache);
      // Bound memory: results waiting for commit are small, but not unlimited.
      if (results.size > 10_000) await results.drain(10_000);
    }
  };

  await run.during(signal, async () => {
    await walk(normalize(root), resolve(root), '');
    // The walk is over: the files still on their way and the snapshot are all that will come.
    await ing.committer.hurry(results.drain(0));
    signal?.throwIfAborted();
  });
  const w = await ing.committer.hurry(
    storeBytes(ing, manifest.parts(), 'snapshot', {
      entries: String(manifest.count),
      name: basename(root.replace(/\/+$/, '')) || '/',
    }),
  );
  return storeResult(w, root.endsWith('/') ? root : `${root}/`, 'snapshot');
}
