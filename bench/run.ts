// `npm run bench` — runs named bench sections and prints ONE JSON document on stdout
// (progress goes to stderr). Select sections by name: `node dist/bench/run.js corpus borg`.
//
// To add a section (million-block DAG, 2 GiB file RSS, event-loop lag…): write it in its own file
// as a `Section` (`(ctx) => Promise<object>`) and add one line to SECTIONS below.
//
// Exit status: 0 unless something is wrong (a restore that is not byte-identical, or a section
// that threw). Slow numbers never fail the bench; a missing tool is reported in the JSON.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { codeVersion } from './code-version.js';
import { buildCorpus, corpusSection } from './corpus.js';
import { borgSection, resticSection } from './competitors.js';
import type { BenchContext, CorpusInfo, Section } from './context.js';
import { BENCH_SETTINGS, repoRootFrom } from './context.js';
import { machineSection } from './machine.js';
import { progress, round } from './measure.js';
import { pakitSection } from './pakit-cli.js';
import { ingestPairsSection } from './ingest-pairs.js';
import { floorSection } from './floor.js';
import { summarySection } from './summary.js';
import { removeUnlessKept } from './tool-result.js';
import { dagMillionSection } from './dag-million.js';
import { eventLoopSection, largeFileSection } from './large-file.js';
import { uiSection } from './ui.js';
import { syncSection } from './sync.js';
import { chainSection } from './chain.js';

interface Registered {
  run: Section;
  /** Part of a plain `npm run bench`. Expensive extras can register with `byDefault: false`. */
  byDefault: boolean;
  describe: string;
}

const SECTIONS: Record<string, Registered> = {
  corpus: { run: corpusSection, byDefault: true, describe: 'build/reuse the real mixed corpus, report composition' },
  pakit: { run: pakitSection, byDefault: true, describe: 'Pakit CLI: store, unchanged store, restore, stats' },
  borg: { run: borgSection, byDefault: true, describe: 'borg create zstd,3 ×2, extract' },
  restic: { run: resticSection, byDefault: true, describe: 'restic backup --compression auto ×2, restore' },
  'ingest-pairs': {
    run: ingestPairsSection,
    byDefault: true,
    describe: 'first store vs borg create, alternating pairs (PAKIT_BENCH_PAIRS, default 5): median ratio',
  },
  floor: {
    run: floorSection,
    byDefault: true,
    describe: 'the work alone on one thread (read, chunk, hash, compress the corpus): what a store costs beyond it',
  },
  dag: { run: dagMillionSection, byDefault: true, describe: '1,000,000 metadata blocks: append rate, lookups, proofs' },
  'large-file': { run: largeFileSection, byDefault: true, describe: '2 GiB file: peak RSS, event-loop delay' },
  'event-loop': {
    run: eventLoopSection,
    byDefault: true,
    describe: 'main-thread event-loop delay while the corpus ingests',
  },
  sync: {
    run: syncSection,
    byDefault: true,
    describe: 'sync folder: first scan vs borg, 10k rescan, watch latency, lag',
  },
  ui: {
    run: uiSection,
    byDefault: true,
    describe: 'served UI in Chromium: first paint, a 100,000-file list, DAG view',
  },
  chain: {
    run: chainSection,
    byDefault: true,
    describe: 'anchoring on a local Substrate chain: time to finalized receipt, transactions per checkpoint',
  },
  summary: { run: summarySection, byDefault: true, describe: 'table and Pakit/borg, Pakit/restic ratios' },
};

function selectSections(argv: string[]): string[] {
  if (argv.includes('--help') || argv.includes('-h')) {
    const lines = Object.entries(SECTIONS).map(
      ([n, s]) => `  ${n.padEnd(10)} ${s.describe}${s.byDefault ? '' : ' (opt-in)'}`,
    );
    process.stderr.write(`usage: node dist/bench/run.js [section...]\nsections:\n${lines.join('\n')}\n`);
    process.exit(0);
  }
  const unknown = argv.filter((a) => !(a in SECTIONS));
  if (unknown.length > 0) {
    process.stderr.write(`unknown section(s): ${unknown.join(', ')}; known: ${Object.keys(SECTIONS).join(', ')}\n`);
    process.exit(2);
  }
  const picked = argv.length > 0 ? argv : Object.keys(SECTIONS).filter((n) => SECTIONS[n].byDefault);
  // Run in registry order whatever the argv order, so results read the same every time;
  // the summary is appended whenever a tool ran, since the ratios are the point.
  const withSummary = picked.some((n) => ['pakit', 'borg', 'restic', 'ingest-pairs'].includes(n))
    ? [...picked, 'summary']
    : picked;
  return Object.keys(SECTIONS).filter((n) => withSummary.includes(n));
}

/** Problems that must fail the run: a restore that lost or changed bytes, or a crashed section. */
function problems(results: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const [name, value] of Object.entries(results)) {
    const v = value as { restore?: { identical?: boolean }; crashed?: boolean };
    if (v?.restore && v.restore.identical === false) out.push(`${name}: restore is not identical to the corpus`);
    if (v?.crashed) out.push(`${name}: section threw`);
  }
  return out;
}

/** Where a run notes when it removed its restore trees (read by the next run). */
const TREE_REMOVAL_FILE = 'last-tree-removal.json';

async function lastTreeRemoval(workDir: string): Promise<{ secondsBeforeStart: number; paths: string[] } | null> {
  try {
    const r = JSON.parse(await readFile(join(workDir, TREE_REMOVAL_FILE), 'utf8')) as { at: string; paths: string[] };
    return { secondsBeforeStart: round((Date.now() - Date.parse(r.at)) / 1000, 1), paths: r.paths };
  } catch {
    return null;
  }
}

async function main(): Promise<void> {
  const started = process.hrtime.bigint();
  const repoRoot = repoRootFrom(import.meta.url);
  const workDir = resolve(process.env.PAKIT_BENCH_DIR || join(repoRoot, 'bench-work'));
  let corpus: Promise<CorpusInfo> | null = null;
  const atEnd: string[] = [];
  const ctx: BenchContext = {
    repoRoot,
    workDir,
    corpus: () => (corpus ??= buildCorpus(workDir)),
    results: {},
    keep: process.env.PAKIT_BENCH_KEEP === '1',
    removeAtEnd: (...paths) => atEnd.push(...paths),
  };
  const names = selectSections(process.argv.slice(2));
  await mkdir(workDir, { recursive: true });

  const doc: Record<string, unknown> = {
    benchmark: 'pakit vs borg vs restic on a real mixed corpus',
    startedAt: new Date().toISOString(),
    command: `node dist/bench/run.js ${process.argv.slice(2).join(' ')}`.trim(),
    // Every setting that changes what is measured (docs/BENCHMARKS.md lists them): a run of 30,000
    // blocks or two pairs must say so in its own file.
    env: Object.fromEntries(BENCH_SETTINGS.map((name) => [name, process.env[name] ?? null])),
    units: 'MB = 10^6 bytes; seconds are wall clock; MBps = corpus bytes / wall seconds',
    // What was measured: dist/ is built from the working tree, so `dirty` means not quite `commit`.
    code: await codeVersion(repoRoot),
    machine: await machineSection(ctx),
    // The last run's restore trees were removed this long before this run began (see removeAtEnd):
    // within about a minute, this run's first restore may pay for it.
    lastTreeRemoval: await lastTreeRemoval(workDir),
  };
  for (const name of names) {
    progress(`== ${name} ==`);
    const t0 = process.hrtime.bigint();
    try {
      ctx.results[name] = await SECTIONS[name].run(ctx);
    } catch (err) {
      progress(`section ${name} threw: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      ctx.results[name] = { error: err instanceof Error ? err.message : String(err), crashed: true };
    }
    progress(`== ${name}: ${round(Number(process.hrtime.bigint() - t0) / 1e9, 1)} s ==`);
    doc[name] = ctx.results[name];
  }
  if (!ctx.keep && atEnd.length > 0) {
    await removeUnlessKept(false, ...atEnd);
    await writeFile(
      join(workDir, TREE_REMOVAL_FILE),
      `${JSON.stringify({ at: new Date().toISOString(), paths: atEnd })}\n`,
    );
  }
  const bad = problems(ctx.results);
  doc.problems = bad;
  doc.loadAverageAtEnd = loadavg().map((l) => round(l, 2));
  doc.totalSeconds = round(Number(process.hrtime.bigint() - started) / 1e9, 1);
  const json = `${JSON.stringify(doc, null, 2)}\n`;
  // A copy on disk, so a run's figures survive a scrolled-away terminal (docs/BENCHMARKS.md cites them).
  const saved = join(workDir, 'results', `${String(doc.startedAt).replace(/[:.]/g, '-')}.json`);
  await mkdir(dirname(saved), { recursive: true });
  await writeFile(saved, json);
  progress(`results saved to ${saved}`);
  process.stdout.write(json);
  if (bad.length > 0) process.exitCode = 1;
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
