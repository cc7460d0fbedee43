// The sync folder engine against issue 3's performance targets, in-process on real files:
//   1. first scan + ingest of a copy of the corpus, beside borg's first backup of the same copy
//      (and the same sync through the CLI, a separate process timed like borg);
//   2. an unchanged rescan of 10,000 small files (target < 1 s);
//   3. watch latency: a file written until it is tracked (target < 2,000 ms);
//   4. main-thread event-loop delay during (1)'s in-process sync (targets: p99 < 50 ms, and for the
//      desktop app no stall over 50 ms: the maximum, and a count of the stalls over 50 ms).
// The folder is a copy because a sync writes its marker (.pakit/folder-id) into the folder.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Archive } from '../main/archive/archive.js';
import { SyncDb } from '../main/sync/sync-db.js';
import { SyncFolder, type SyncSummary } from '../main/sync/sync-folder.js';
import { warmPageCache } from './page-cache.js';
import { borgEnv } from './competitors.js';
import type { BenchContext, Section } from './context.js';
import { duBytes, mbps, progress, round, runMeasured, runQuiet, which } from './measure.js';
import { latency } from './percentiles.js';
import { watchStalls, type StallReport } from './stall-watch.js';
import { failure, freshDir, megabytes, phase, removeUnlessKept } from './tool-result.js';

const RESCAN_FILES = 10_000;
const RESCAN_RUNS = 5;
const WATCH_WRITES = 20;
const WATCH_TIMEOUT_MS = 15_000;

const loadAvg = (): number[] => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const secondsSince = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e9;

/** A summary without its per-file problem list (only the count and the first few go in the JSON). */
function counts(s: SyncSummary) {
  return {
    state: s.state,
    ...(s.reason ? { reason: s.reason } : {}),
    added: s.added,
    changed: s.changed,
    deleted: s.deleted,
    renamed: s.renamed,
    unchanged: s.unchanged,
    deferred: s.deferred,
    bytes: s.bytes,
    problems: s.problems.length,
    ...(s.problems.length > 0 ? { firstProblems: s.problems.slice(0, 5) } : {}),
  };
}

/** p50/p99/max in milliseconds from millisecond samples (percentiles.ts works in ns → µs). */
function millis(samplesMs: number[]) {
  const l = latency(samplesMs.map((ms) => ms * 1e6));
  return {
    samples: l.samples,
    p50ms: round(l.p50us / 1000, 1),
    p99ms: round(l.p99us / 1000, 1),
    maxms: round(l.maxus / 1000, 1),
  };
}

async function borgFirstBackup(run: string, folder: string, bytes: number) {
  if (!(await which('borg'))) return { error: 'not installed: apt-get install borgbackup' };
  try {
    const home = await freshDir(join(run, 'borg-home'));
    const repo = join(run, 'borg-repo');
    const env = borgEnv(home);
    await runMeasured('borg', ['init', '--encryption=none', repo], { env, label: 'sync: borg init' });
    const warmed = warmPageCache(folder);
    const first = await runMeasured('borg', ['create', '--compression', 'zstd,3', `${repo}::a`, folder], {
      env,
      label: 'sync: borg create (first)',
    });
    return { ...phase(first, bytes), pageCacheWarmed: warmed, storedMB: megabytes(await duBytes(repo)) };
  } catch (err) {
    progress(`sync: borg failed: ${String(err)}`);
    return failure(err);
  }
}

/** The same first sync through `pakit sync --once --json`: a fresh process, timed like borg. */
async function pakitCliFirstSync(ctx: BenchContext, run: string, folder: string, bytes: number) {
  const bin = join(ctx.repoRoot, 'bin', 'pakit.js');
  if (!existsSync(join(ctx.repoRoot, 'dist', 'main', 'cli', 'main.js'))) return { error: 'CLI not built' };
  try {
    const data = join(run, 'cli-data');
    const env = { ...process.env, HOME: await freshDir(join(run, 'cli-home')) };
    const warmed = warmPageCache(folder);
    const m = await runMeasured(
      process.execPath,
      [bin, '--data', data, 'sync', folder, '--once', '--json', '--settle', '0'],
      { env, cwd: ctx.repoRoot, label: 'sync: pakit sync --once (CLI)' },
    );
    const s = JSON.parse(m.stdout) as SyncSummary;
    return {
      ...phase(m, bytes),
      pageCacheWarmed: warmed,
      storedMB: megabytes(await duBytes(data)),
      summary: counts(s),
    };
  } catch (err) {
    progress(`sync: pakit CLI failed: ${String(err)}`);
    return failure(err);
  }
}

/** Figures 1 and 4: the corpus copy synced in-process (event loop watched), via the CLI, and by borg. */
async function firstScan(ctx: BenchContext, run: string) {
  const corpus = await ctx.corpus();
  const folder = join(run, 'folder');
  progress(`sync: copying the corpus (${megabytes(corpus.totalBytes)} MB) to ${folder}`);
  const tCopy = process.hrtime.bigint();
  await runQuiet('cp', ['-a', corpus.dir, folder]);
  const copySeconds = round(secondsSince(tCopy));

  // borg first, so its archive does not contain Pakit's marker.
  const borg = await borgFirstBackup(run, folder, corpus.totalBytes);

  progress('sync: first syncUntilSettled() of the corpus copy, in-process');
  const data = join(run, 'data');
  const archive = await Archive.open({ dir: data });
  // borg just dropped the folder from the page cache (see page-cache.ts).
  const warmed = warmPageCache(folder);
  let pakit: Record<string, unknown>;
  let eventLoop: {
    p50ms: number;
    p99ms: number;
    maxms: number;
    resolutionMs: number;
    stalls: StallReport;
    loadAvg: number[];
  };
  try {
    // settleMs 0: cp -a kept the corpus's old mtimes, so nothing is "still being written".
    const f = SyncFolder.open({ archive, root: folder, settleMs: 0 });
    const h = monitorEventLoopDelay({ resolution: 5 });
    h.enable();
    const watch = watchStalls(50);
    const t0 = process.hrtime.bigint();
    const s = await f.syncUntilSettled();
    const seconds = secondsSince(t0);
    h.disable();
    eventLoop = {
      p50ms: round(h.percentile(50) / 1e6, 2),
      p99ms: round(h.percentile(99) / 1e6, 2),
      maxms: round(h.max / 1e6, 2),
      resolutionMs: 5,
      stalls: watch.stop(),
      // The machine is shared: the load says how far the figures are the code's own.
      loadAvg: loadAvg(),
    };
    const tClose = process.hrtime.bigint();
    await f.close();
    await archive.close();
    pakit = {
      seconds: round(seconds),
      MBps: mbps(corpus.totalBytes, seconds),
      closeSeconds: round(secondsSince(tClose)),
      pageCacheWarmed: warmed,
      storedMB: megabytes(await duBytes(data)),
      summary: counts(s),
      filesInCorpus: corpus.files,
    };
    progress(
      `sync: in-process first sync ${round(seconds, 2)} s, ${s.added} added, ${s.problems.length} problems; ` +
        `event loop max ${eventLoop.maxms} ms, ${eventLoop.stalls.count} stalls over 50 ms`,
    );
  } catch (err) {
    await archive.close().catch(() => undefined);
    throw err;
  }

  const cli = await pakitCliFirstSync(ctx, run, folder, corpus.totalBytes);
  const borgSeconds = 'seconds' in borg ? borg.seconds : null;
  const pakitSeconds = pakit.seconds as number;
  const cliSeconds = 'seconds' in cli ? cli.seconds : null;
  await removeUnlessKept(ctx.keep, folder, data, join(run, 'cli-data'), join(run, 'borg-repo'));
  return {
    firstScan: {
      folderBytes: corpus.totalBytes,
      folderMB: megabytes(corpus.totalBytes),
      files: corpus.files,
      copySeconds,
      pakitSeconds,
      pakitCliSeconds: cliSeconds,
      borgSeconds,
      /** borg seconds / Pakit seconds: above 1, Pakit's first sync is faster than borg's first backup. */
      ratio: borgSeconds !== null ? round(borgSeconds / pakitSeconds, 2) : null,
      ratioCli: borgSeconds !== null && cliSeconds !== null ? round(borgSeconds / cliSeconds, 2) : null,
      pakit,
      pakitCli: cli,
      borg,
    },
    eventLoop,
  };
}

/** 10,000 files of 100 B–20 KB in 20 × 10 nested directories, half text and half random. */
function makeSmallFiles(root: string): number {
  const text = Buffer.from('parcel owner district deed record survey boundary '.repeat(500));
  let bytes = 0;
  for (let i = 0; i < RESCAN_FILES; i++) {
    const dir = join(root, `d${String(i % 20).padStart(2, '0')}`, `e${Math.floor(i / 20) % 10}`);
    if (i < 200) mkdirSync(dir, { recursive: true });
    const size = 100 + ((i * 7919) % (20_000 - 100));
    writeFileSync(join(dir, `f${i}.dat`), i % 2 === 0 ? randomBytes(size) : text.subarray(0, size));
    bytes += size;
  }
  return bytes;
}

/** Figure 2: a full sync() of a 10,000-file folder where nothing changed, five times. */
async function unchangedRescan(run: string) {
  const root = await freshDir(join(run, 'small'));
  progress(`sync: writing ${RESCAN_FILES} small files`);
  const bytes = makeSmallFiles(root);
  const archive = await Archive.open({ dir: join(run, 'small-data') });
  try {
    const f = SyncFolder.open({ archive, root, settleMs: 0 });
    const t0 = process.hrtime.bigint();
    const first = await f.syncUntilSettled();
    const firstSeconds = secondsSince(t0);
    const seconds: number[] = [];
    const unchanged: number[] = [];
    for (let i = 0; i < RESCAN_RUNS; i++) {
      const t = process.hrtime.bigint();
      const s = await f.sync();
      seconds.push(secondsSince(t));
      unchanged.push(s.unchanged);
    }
    await f.close();
    const sorted = [...seconds].sort((a, b) => a - b);
    progress(`sync: unchanged rescans ${sorted.map((s) => round(s, 3)).join(', ')} s`);
    return {
      files: RESCAN_FILES,
      bytes,
      firstSync: { seconds: round(firstSeconds), summary: counts(first) },
      runs: RESCAN_RUNS,
      secondsEach: seconds.map((s) => round(s, 4)),
      p50Seconds: round(sorted[Math.floor(sorted.length / 2)]!, 4),
      maxSeconds: round(sorted.at(-1)!, 4),
      unchangedEach: unchanged,
      unchanged: Math.min(...unchanged),
      allUnchanged: unchanged.every((u) => u === RESCAN_FILES),
    };
  } finally {
    await archive.close();
  }
}

/** Figure 3: watch(), then one new file at a time; ms from its write until the sync db tracks it. */
async function watchLatency(run: string, settleMs: number) {
  const root = await freshDir(join(run, `watch-${settleMs}`));
  // A few old files, so the watcher has a real tree and the initial sync has something to do.
  const past = new Date(Date.now() - 3_600_000);
  for (let i = 0; i < 50; i++) {
    const file = join(root, `seed${i % 5}`, `s${i}.txt`);
    mkdirSync(join(root, `seed${i % 5}`), { recursive: true });
    writeFileSync(file, randomBytes(1000 + i * 50));
    utimesSync(file, past, past);
  }
  mkdirSync(join(root, 'incoming'));
  const archive = await Archive.open({ dir: join(run, `watch-${settleMs}-data`) });
  try {
    const f = SyncFolder.open({ archive, root, settleMs });
    await f.watch();
    const db = new SyncDb(archive.ctx.db);
    const samples: number[] = [];
    let timeouts = 0;
    for (let i = 0; i < WATCH_WRITES; i++) {
      const rel = `incoming/new-${i}.bin`;
      const t0 = process.hrtime.bigint();
      writeFileSync(join(root, rel), randomBytes(2048 + 256 * i));
      let ms = 0;
      while (!db.tracked(f.id).has(rel)) {
        ms = secondsSince(t0) * 1000;
        if (ms > WATCH_TIMEOUT_MS) break;
        await sleep(10);
      }
      ms = secondsSince(t0) * 1000;
      if (ms > WATCH_TIMEOUT_MS) timeouts++;
      else samples.push(ms);
    }
    await f.close();
    const summary = samples.length > 0 ? millis(samples) : { samples: 0 };
    progress(`sync: watch latency (settleMs ${settleMs}): ${JSON.stringify(summary)}, ${timeouts} timeouts`);
    return {
      settleMs,
      debounceMs: 200,
      writes: WATCH_WRITES,
      ...summary,
      timeouts,
      timeoutMs: WATCH_TIMEOUT_MS,
      eachMs: samples.map((s) => round(s, 1)),
    };
  } finally {
    await archive.close();
  }
}

async function guard<T extends object>(name: string, body: () => Promise<T>): Promise<T | { error: string }> {
  try {
    return await body();
  } catch (err) {
    progress(`sync: ${name} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    return failure(err);
  }
}

function target(value: number | null | undefined, text: string, ok: (v: number) => boolean) {
  return { value: value ?? null, target: text, met: typeof value === 'number' ? ok(value) : false };
}

export const syncSection: Section = async (ctx) => {
  const run = await freshDir(join(ctx.workDir, 'runs', 'sync'));
  const first = await guard('first scan', () => firstScan(ctx, run));
  const rescan = await guard('unchanged rescan', () => unchangedRescan(run));
  const watchDefault = await guard('watch (settleMs 1000)', () => watchLatency(run, 1000));
  const watch300 = await guard('watch (settleMs 300)', () => watchLatency(run, 300));
  await removeUnlessKept(ctx.keep, run);

  const fs = 'firstScan' in first ? first.firstScan : null;
  const el = 'eventLoop' in first ? first.eventLoop : null;
  const num = (o: object, k: string): number | undefined => (o as Record<string, number | undefined>)[k];
  return {
    settings:
      'in-process SyncFolder on a fresh archive; first scan settleMs 0 on a cp -a copy of the corpus; borg init --encryption=none, borg create --compression zstd,3',
    firstScan: fs ?? first,
    unchangedRescan: rescan,
    watchLatency: { defaultSettle: watchDefault, settle300: watch300 },
    eventLoopDuringFirstScan: el ?? first,
    targets: {
      // The issue asks for the ratio side by side and sets no number for it.
      firstScanBorgOverPakitRatio: { value: fs?.ratio ?? null, target: 'reported (no number set)' },
      // A rescan that re-read files is not an unchanged rescan, however fast.
      unchangedRescan10kMaxSeconds: target(
        num(rescan, 'maxSeconds'),
        '< 1 with all 10,000 unchanged',
        (v) => v < 1 && 'allUnchanged' in rescan && rescan.allUnchanged,
      ),
      // A write never picked up (timeout) fails the target whatever the others did.
      watchLatencyP99Ms: target(
        num(watchDefault, 'p99ms'),
        '< 2000, no timeouts',
        (v) => v < 2000 && num(watchDefault, 'timeouts') === 0,
      ),
      watchLatencySettle300P99Ms: target(
        num(watch300, 'p99ms'),
        '< 2000, no timeouts',
        (v) => v < 2000 && num(watch300, 'timeouts') === 0,
      ),
      eventLoopP99Ms: target(el?.p99ms, '< 50', (v) => v < 50),
      // The desktop app's issue: no main-thread stall over 50 ms while a large folder ingests.
      eventLoopMaxMs: target(el?.maxms, '< 50 (no stall over 50 ms)', (v) => v < 50),
      eventLoopStallsOver50Ms: target(el?.stalls.count, '0', (v) => v === 0),
    },
  };
};
