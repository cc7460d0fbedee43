// End-to-end ingest through the worker pool into a chunk store, against `borg create --compression
// zstd,3` on the same files, and a bounded-memory check on one big file.
//
//   npx tsc -b && node dist/bench/store-ingest.js [dir...] [--limit-mb 300] [--only ingest,borg,big]
//     [--avgs 65536,131072,262144] [--levels 3] [--workers 2] [--store pack] [--big-mb 2048]
//
// Each Pakit configuration runs in a fresh child process so its peak RSS (whole process, worker
// threads included) is its own. Prints JSON on stdout; MB = 10^6 bytes.
import { randomFillSync } from 'node:crypto';
import {
  closeSync,
  createReadStream,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { openDb } from '../main/db/database.js';
import {
  createChunkStore,
  createIngestPool,
  DEFAULT_CHUNKER,
  DEFAULT_ZSTD_LEVEL,
  type ChunkStoreKind,
  type IngestedChunk,
  type NewChunk,
} from '../main/store/index.js';
import { duBytes, mbps, round, runMeasured, runQuiet } from './measure.js';
import { collectCorpus, parseArgs, totalSize } from './store-corpus.js';

const log = (s: string): void => void process.stderr.write(`[store-ingest] ${s}\n`);

interface RunConfig {
  readonly listFile: string;
  readonly avg: number;
  readonly level: number;
  readonly workers: number;
  readonly store: ChunkStoreKind;
  /** Read the files in this thread and push them through ingestStream instead of ingestFile. */
  readonly stream?: boolean;
  readonly lowPriority: boolean;
}

/** Child mode: ingest every listed file, committing as the archive does, and report. */
async function child(cfg: RunConfig): Promise<void> {
  const files = readFileSync(cfg.listFile, 'utf8').split('\n').filter(Boolean);
  const dir = mkdtempSync(join(tmpdir(), 'pakit-bench-ingest-'));
  try {
    const dbFile = join(dir, 'archive.db');
    const db = openDb(dbFile);
    const store = createChunkStore(cfg.store, { db, dir });
    const params = { min: cfg.avg / 4, avg: cfg.avg, max: cfg.avg * 4 };
    const pool = createIngestPool({
      params,
      zstdLevel: cfg.level,
      dbFile,
      workers: cfg.workers,
      lowPriority: cfg.lowPriority,
    });
    // The histogram records intervals between 10 ms samples: lag is what exceeds the 10 ms.
    const lag = monitorEventLoopDelay({ resolution: 10 });
    lag.enable();
    const elu0 = performance.eventLoopUtilization();
    const t = performance.now();
    let bytes = 0;
    let done = 0;
    let sinceCommit = 0;
    let committing: Promise<void> = Promise.resolve();
    // As the archive's committer should: fdatasync on the thread pool, then a short sync for what
    // was put meanwhile, then the transaction.
    const commit = (): Promise<void> =>
      (committing = committing.then(async () => {
        await store.syncAsync();
        store.sync();
        db.transaction(() => store.persist())();
      }));
    await Promise.all(
      files.map(async (f) => {
        const onBatch = (batch: IngestedChunk[]): void => {
          for (const c of batch)
            if (c.encoded ? !store.put(c as NewChunk) : !store.lookup(c.id)) throw new Error('lost chunk');
        };
        const { size } = cfg.stream
          ? await pool.ingestStream(createReadStream(f, { highWaterMark: 2 ** 20 }), onBatch)
          : await pool.ingestFile(f, onBatch);
        bytes += size;
        sinceCommit += size;
        // Many objects per transaction, as the archive's committer does: every 256 files or 64 MB.
        if (++done % 256 === 0 || sinceCommit >= 64e6) {
          sinceCommit = 0;
          await commit();
        }
      }),
    );
    await commit();
    const ms = performance.now() - t;
    const elu = performance.eventLoopUtilization(elu0);
    lag.disable();
    const totals = store.totals();
    await pool.close();
    store.close();
    db.close();
    const result = {
      ...cfg,
      files: files.length,
      bytes,
      seconds: round(ms / 1000),
      MBps: mbps(bytes, ms / 1000),
      storedBytes: totals.storedBytes,
      uniqueRawBytes: totals.rawBytes,
      chunks: totals.chunks,
      diskBytes: await duBytes(dir),
      peakRssMB: round((process.resourceUsage().maxRSS * 1024) / 1e6, 1),
      mainThread: {
        eventLoopUtilization: round(elu.utilization),
        lagMaxMs: round(lag.max / 1e6 - 10, 1),
        lagP99Ms: round(lag.percentile(99) / 1e6 - 10, 1),
      },
    };
    process.stdout.write(JSON.stringify(result));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function runChild(cfg: RunConfig): Promise<unknown> {
  const script = fileURLToPath(import.meta.url);
  const m = await runMeasured(process.execPath, [script, '--child', JSON.stringify(cfg)], {
    label: `pakit ingest avg=${cfg.avg} level=${cfg.level} workers=${cfg.workers} ${cfg.store}`,
  });
  return {
    ...JSON.parse(m.stdout),
    wallSeconds: m.seconds,
    peakRssMBGnuTime: m.peakRssMB,
    cpuSeconds: (m.userSeconds ?? 0) + (m.systemSeconds ?? 0),
  };
}

async function borg(listFile: string, bytes: number): Promise<unknown> {
  const dir = mkdtempSync(join(tmpdir(), 'pakit-bench-borg-'));
  try {
    const repo = join(dir, 'repo');
    const env = { ...process.env, BORG_BASE_DIR: dir, BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK: 'yes' };
    await runQuiet('borg', ['init', '--encryption=none', repo], { env });
    const m = await runMeasured(
      'sh',
      ['-c', `borg create --compression zstd,3 --paths-from-stdin '${repo}::a' < '${listFile}'`],
      {
        env,
        label: 'borg create --compression zstd,3',
      },
    );
    const info = JSON.parse(await runQuiet('borg', ['info', '--json', repo], { env })) as {
      cache: {
        stats: { total_chunks: number; total_unique_chunks: number; unique_csize: number; unique_size: number };
      };
    };
    return {
      version: await runQuiet('borg', ['--version']),
      bytes,
      seconds: m.seconds,
      MBps: mbps(bytes, m.seconds),
      peakRssMB: m.peakRssMB,
      cpuSeconds: (m.userSeconds ?? 0) + (m.systemSeconds ?? 0),
      storedBytes: info.cache.stats.unique_csize,
      uniqueRawBytes: info.cache.stats.unique_size,
      chunks: info.cache.stats.total_unique_chunks,
      repoDiskBytes: await duBytes(repo),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A big file of mixed content (text-like and random stretches), written in pieces. */
function makeBigFile(path: string, mb: number): void {
  const fd = openSync(path, 'w');
  try {
    const text = Buffer.from('the deed of parcel 42 belongs to the office of records, belize. '.repeat(65536));
    const piece = 4 * 2 ** 20;
    const random = Buffer.alloc(piece);
    for (let at = 0, i = 0; at < mb * 1e6; at += piece, i++)
      writeSync(fd, i % 2 === 0 ? randomFillSync(random) : text.subarray(0, piece));
  } finally {
    closeSync(fd);
  }
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === '--child') return child(JSON.parse(argv[1]!) as RunConfig);
  const args = parseArgs(argv);
  const only = new Set((args.flags.get('only') ?? 'ingest,borg,big').split(','));
  const nums = (name: string, def: number[]): number[] => args.flags.get(name)?.split(',').map(Number) ?? def;
  const workers = Number(args.flags.get('workers') ?? 2);
  const store = (args.flags.get('store') ?? 'pack') as ChunkStoreKind;
  const lowPriority = args.flags.get('low-priority') !== 'false';
  const work = mkdtempSync(join(tmpdir(), 'pakit-bench-list-'));
  try {
    const files = collectCorpus(args.roots, args.limitMB);
    const bytes = totalSize(files);
    const listFile = join(work, 'files.txt');
    writeFileSync(listFile, files.map((f) => f.path).join('\n') + '\n');
    log(`${files.length} files, ${round(bytes / 1e6, 1)} MB`);
    // Read once so every run starts from the page cache alike.
    await runQuiet('sh', ['-c', `xargs -d '\\n' cat < '${listFile}' > /dev/null`]);
    const out: Record<string, unknown> = {
      corpus: { roots: args.roots, files: files.length, bytes },
      node: process.version,
      loadAverageAtStart: loadavg(),
    };
    if (only.has('ingest')) {
      const runs: unknown[] = [];
      for (const avg of nums('avgs', [64 * 1024, 128 * 1024, 256 * 1024, 1024 * 1024]))
        for (const level of nums('levels', [3]))
          runs.push(await runChild({ listFile, avg, level, workers, store, lowPriority }));
      out.ingest = runs;
    }
    if (only.has('borg')) out.borg = await borg(listFile, bytes);
    if (only.has('big')) {
      const mb = Number(args.flags.get('big-mb') ?? 2048);
      const big = join(work, 'big.bin');
      makeBigFile(big, mb);
      writeFileSync(join(work, 'big.txt'), big + '\n');
      const cfg = {
        listFile: join(work, 'big.txt'),
        avg: DEFAULT_CHUNKER.avg,
        level: DEFAULT_ZSTD_LEVEL,
        workers,
        store,
        lowPriority,
      };
      out.bigFile = await runChild(cfg);
      out.bigStream = await runChild({ ...cfg, stream: true });
    }
    console.log(JSON.stringify(out, null, 2));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
