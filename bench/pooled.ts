// `node dist/bench/pooled.js [--commit PREFIX] [PATH...]` — the ingest target (≥ 1.5× borg's
// throughput) over many saved bench runs, not one.
//
// One `ingest-pairs` run judges the target on the median of its own five pairs. On this VM a few
// slow minutes move three pairs of five, so the same code's run medians spread over 1.48–1.99 in
// an evening. This reads the saved results (default: <bench dir>/results/*.json, see run.ts), groups
// the runs by the code they measured (`code` in each result; older results have none), and prints,
// per group, the spread of the run medians and the median of all their pairs with a
// distribution-free 95 % interval. Pairs minutes apart are not independent (a slow stretch moves
// several), so the interval is narrower than the truth; the run medians' spread is the honest view.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { repoRootFrom } from './context.js';
import { round } from './measure.js';

export const TARGET = 1.5;

export interface PairsRun {
  readonly file: string;
  readonly startedAt: string;
  readonly commit: string | null;
  readonly dirty: boolean | null;
  readonly median: number;
  readonly ratios: readonly number[];
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The ingest-pairs figures of one saved result, or why it has none. */
export function pairsRunOf(doc: unknown, file: string): PairsRun | string {
  if (!isRecord(doc)) return 'not a JSON object';
  const section = doc['ingest-pairs'];
  if (!isRecord(section)) return 'no ingest-pairs section';
  const pairs = section.pairs;
  const median = isRecord(section.median) ? section.median.ingestThroughputRatio : undefined;
  if (!Array.isArray(pairs) || pairs.length === 0 || typeof median !== 'number')
    return typeof section.error === 'string' ? `ingest-pairs failed: ${section.error}` : 'ingest-pairs has no pairs';
  const ratios: number[] = [];
  for (const p of pairs) {
    if (!isRecord(p) || typeof p.ratio !== 'number' || !Number.isFinite(p.ratio)) return 'a pair without a ratio';
    ratios.push(p.ratio);
  }
  const code = isRecord(doc.code) ? doc.code : {};
  return {
    file,
    startedAt: typeof doc.startedAt === 'string' ? doc.startedAt : '',
    commit: typeof code.commit === 'string' ? code.commit : null,
    dirty: typeof code.dirty === 'boolean' ? code.dirty : null,
    median,
    ratios,
  };
}

function median(sorted: readonly number[]): number {
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * A distribution-free 95 % interval for the median of `sorted` (ascending): order statistics
 * x(k) and x(n+1-k), with k the largest for which P(Binomial(n, 1/2) < k) ≤ 2.5 %. Null below six
 * values, where even the smallest and largest cover less than 95 %.
 */
export function medianInterval95(sorted: readonly number[]): readonly [number, number] | null {
  const n = sorted.length;
  // P(X ≤ j) for X ~ Binomial(n, 1/2), in logs so that large n does not underflow 2^-n.
  let logC = 0; // log C(n, j)
  let cdf = 0;
  let k = 0;
  for (let j = 0; j < n; j++) {
    if (j > 0) logC += Math.log(n - j + 1) - Math.log(j);
    cdf += Math.exp(logC - n * Math.LN2);
    if (cdf > 0.025) break;
    k = j + 1; // P(X ≤ j) = P(X < j + 1) ≤ 2.5 %
  }
  return k >= 1 ? [sorted[k - 1]!, sorted[n - k]!] : null;
}

export interface PooledGroup {
  readonly commit: string | null;
  readonly dirty: boolean | null;
  readonly runs: number;
  readonly firstStartedAt: string;
  readonly lastStartedAt: string;
  readonly runMedians: {
    readonly min: number;
    readonly median: number;
    readonly max: number;
    readonly belowTarget: number;
  };
  readonly pairs: {
    readonly count: number;
    readonly median: number;
    readonly belowTarget: number;
    readonly medianInterval95: readonly [number, number] | null;
  };
}

/** Runs grouped by the code they measured (commit and dirty flag), oldest group first. */
export function pooledGroups(runs: readonly PairsRun[]): PooledGroup[] {
  const groups = new Map<string, PairsRun[]>();
  for (const r of [...runs].sort((a, b) => a.startedAt.localeCompare(b.startedAt))) {
    const key = `${r.commit ?? 'unknown'}${r.dirty ? '+dirty' : ''}`;
    const g = groups.get(key);
    if (g) g.push(r);
    else groups.set(key, [r]);
  }
  return [...groups.values()].map((g) => {
    const medians = g.map((r) => r.median).sort((a, b) => a - b);
    const ratios = g.flatMap((r) => r.ratios).sort((a, b) => a - b);
    const interval = medianInterval95(ratios);
    return {
      commit: g[0]!.commit,
      dirty: g[0]!.dirty,
      runs: g.length,
      firstStartedAt: g[0]!.startedAt,
      lastStartedAt: g[g.length - 1]!.startedAt,
      runMedians: {
        min: medians[0]!,
        median: round(median(medians), 3),
        max: medians[medians.length - 1]!,
        belowTarget: medians.filter((m) => m < TARGET).length,
      },
      pairs: {
        count: ratios.length,
        median: round(median(ratios), 3),
        belowTarget: ratios.filter((x) => x < TARGET).length,
        medianInterval95: interval,
      },
    };
  });
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The JSON files named: files as they are, directories' *.json (not recursive). */
export function resultFiles(paths: readonly string[]): string[] {
  const files: string[] = [];
  for (const p of paths) {
    let st;
    try {
      st = statSync(p);
    } catch {
      throw new UsageError(`no such file or directory: ${p}`);
    }
    if (st.isDirectory()) {
      for (const name of readdirSync(p).sort()) if (name.endsWith('.json')) files.push(join(p, name));
    } else files.push(p);
  }
  return files;
}

export function pooledReport(files: readonly string[], commitPrefix?: string) {
  const runs: PairsRun[] = [];
  const skipped: { file: string; why: string }[] = [];
  for (const file of files) {
    let doc: unknown;
    try {
      doc = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      skipped.push({ file, why: `not readable JSON: ${err instanceof Error ? err.message : String(err)}` });
      continue;
    }
    const run = pairsRunOf(doc, file);
    if (typeof run === 'string') skipped.push({ file, why: run });
    else if (commitPrefix === undefined || run.commit?.startsWith(commitPrefix)) runs.push(run);
  }
  return {
    target: `>= ${TARGET}`,
    files: files.length,
    skipped,
    groups: pooledGroups(runs),
    caveat:
      'pairs minutes apart are not independent (a slow stretch of the machine moves several), so medianInterval95 is narrower than the truth',
  };
}

function main(argv: readonly string[]): void {
  const paths: string[] = [];
  let commit: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--help' || a === '-h') {
      process.stdout.write('usage: node dist/bench/pooled.js [--commit PREFIX] [FILE|DIR ...]\n');
      return;
    }
    if (a === '--commit') {
      commit = argv[++i];
      if (!commit || !/^[0-9a-f]{4,40}$/.test(commit))
        throw new UsageError(`--commit needs 4 to 40 lowercase hex digits, not ${JSON.stringify(commit ?? '')}`);
    } else if (a.startsWith('-')) throw new UsageError(`unknown option ${a}`);
    else paths.push(a);
  }
  if (paths.length === 0) {
    const workDir = resolve(process.env.PAKIT_BENCH_DIR || join(repoRootFrom(import.meta.url), 'bench-work'));
    paths.push(join(workDir, 'results'));
  }
  process.stdout.write(`${JSON.stringify(pooledReport(resultFiles(paths), commit), null, 2)}\n`);
}

// Run as a script (tests import the functions above).
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    main(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`pooled: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(err instanceof UsageError ? 2 : 1);
  }
}
