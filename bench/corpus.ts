// Assembles the real, mixed benchmark corpus under <workDir>/corpus and reports its composition.
//
// Deterministic: candidates are walked, ordered by a hash of their path and taken until each
// category's budget is spent, so the same machine yields the same files on every run. The plan is
// saved next to the corpus; an unchanged plan with an intact corpus on disk is reused as is.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { chmod, copyFile, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { BenchContext, CategoryComposition, CorpusInfo, Section } from './context.js';
import { envNumber } from './context.js';
import { fetchReleases, RELEASES, selectReleaseFiles } from './corpus-releases.js';
import type { Candidate } from './corpus-sources.js';
import { candidatesFor, SOURCE_CATEGORIES } from './corpus-sources.js';
import { progress, round } from './measure.js';
import { digestTree, type TreeDigest } from './verify.js';

const DEFAULT_MB = 500;
/** Releases take at most this share; the rest of the target is split by the categories' shares. */
const RELEASES_SHARE = 0.15;
const PLAN_VERSION = 1;
/** Composition is reported per source tree, most specific first. */
const REPORT_ROOTS = [
  '/usr/share/doc',
  '/usr/share/man',
  '/usr/share',
  '/usr/include',
  '/usr/lib/node_modules',
  '/usr/lib/python3.11',
  '/usr/lib/python3',
  '/usr/lib/jvm',
  '/usr/lib/x86_64-linux-gnu',
];

interface PlanEntry {
  rel: string;
  size: number;
  src: string;
  srcSize: number;
  srcMtimeMs: number;
  gunzip?: boolean;
  category: string;
}

function sizeAfterCopy(c: Candidate): number {
  // A man page's decompressed size is only known by decompressing it (gzip's trailer is mod 2^32).
  return c.gunzip ? gunzipSync(readFileSync(c.src)).length : c.srcSize;
}

/** Takes candidates in order while they fit the budget; later small files may fill what is left. */
function takeWithin(cands: Candidate[], budget: number, category: string, usedRels: Set<string>): PlanEntry[] {
  const out: PlanEntry[] = [];
  let left = budget;
  for (const c of cands) {
    if (left < 4096) break;
    if (c.srcSize > left && !c.gunzip) continue;
    if (usedRels.has(c.rel)) continue;
    let size: number;
    try {
      size = sizeAfterCopy(c);
    } catch {
      continue; // a corrupt .gz man page: not worth a failed bench
    }
    if (size > left || size === 0) continue;
    usedRels.add(c.rel);
    out.push({
      rel: c.rel,
      size,
      src: c.src,
      srcSize: c.srcSize,
      srcMtimeMs: c.srcMtimeMs,
      gunzip: c.gunzip,
      category,
    });
    left -= size;
  }
  return out;
}

async function plan(cacheDir: string, targetBytes: number) {
  const entries: PlanEntry[] = [];
  const errors: Record<string, string> = {};
  const used = new Set<string>();

  let tarballs: Candidate[] = [];
  try {
    const releases = await fetchReleases(cacheDir);
    const files = selectReleaseFiles(releases, targetBytes * RELEASES_SHARE);
    entries.push(...takeWithin(files, Infinity, 'releases', used));
    const st = await Promise.all(releases.map((r) => stat(r.tarball)));
    // The npm tarballs themselves are real already-compressed files too.
    tarballs = releases.map((r, i) => ({
      src: r.tarball,
      rel: join('compressed', 'npm', `${r.id}.tgz`),
      srcSize: st[i].size,
      srcMtimeMs: 0, // download time is not content; keep the plan stable across re-downloads
    }));
  } catch (err) {
    errors.releases = `could not fetch ${RELEASES.map((r) => `${r.name}@${r.version}`).join(', ')}: ${String(err)}`;
  }

  const releaseBytes = entries.reduce((s, e) => s + e.size, 0);
  const rest = Math.max(0, targetBytes - releaseBytes);
  const shareSum = SOURCE_CATEGORIES.reduce((s, c) => s + c.share, 0);
  for (const cat of SOURCE_CATEGORIES) {
    progress(`corpus: selecting ${cat.name}`);
    const budget = (rest * cat.share) / shareSum;
    const cands = cat.name === 'compressed' ? [...tarballs, ...(await candidatesFor(cat))] : await candidatesFor(cat);
    entries.push(...takeWithin(cands, budget, cat.name, used));
  }
  entries.sort((a, b) => (a.rel < b.rel ? -1 : 1));
  return { entries, errors };
}

/** The corpus on disk still matches the plan (a quick size check, not a re-hash). */
function intact(dir: string, entries: PlanEntry[]): boolean {
  if (!existsSync(dir)) return false;
  let count = 0;
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else count++;
    }
  };
  walk(dir);
  if (count !== entries.length) return false;
  return entries.every((e) => statSync(join(dir, e.rel), { throwIfNoEntry: false })?.size === e.size);
}

async function materialise(dir: string, entries: PlanEntry[]): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  let done = 0;
  for (const e of entries) {
    const dst = join(dir, e.rel);
    await mkdir(dirname(dst), { recursive: true });
    if (e.gunzip) await writeFile(dst, new Uint8Array(gunzipSync(await readFile(e.src))));
    else await copyFile(e.src, dst);
    // Uniform permissions, so no tool trips over a root-only source file mode on restore.
    await chmod(dst, 0o644);
    if (++done % 5000 === 0) progress(`corpus: ${done}/${entries.length} files`);
  }
}

function compose(entries: PlanEntry[], errors: Record<string, string>): Record<string, CategoryComposition> {
  const describe: Record<string, string> = {
    releases: `two releases each of ${[...new Set(RELEASES.map((r) => r.name))].join(', ')} (npm pack, extracted side by side): ${RELEASES.map((r) => `${r.name}@${r.version}`).join(', ')}`,
  };
  for (const c of SOURCE_CATEGORIES) describe[c.name] = c.describe;
  const out: Record<string, CategoryComposition> = {};
  for (const name of ['documents', 'source', 'compressed', 'binaries', 'releases']) {
    out[name] = { describe: describe[name], files: 0, bytes: 0, fromRoots: {} };
    if (errors[name]) out[name].error = errors[name];
  }
  for (const e of entries) {
    const c = out[e.category];
    c.files++;
    c.bytes += e.size;
    const key =
      e.category === 'releases'
        ? e.rel.split('/')[1]
        : e.rel.startsWith('compressed/npm/')
          ? 'npm tarballs'
          : (REPORT_ROOTS.find((r) => e.src.startsWith(`${r}/`)) ?? 'other');
    c.fromRoots[key] = (c.fromRoots[key] ?? 0) + e.size;
  }
  return out;
}

export async function buildCorpus(workDir: string): Promise<CorpusInfo> {
  const started = process.hrtime.bigint();
  const targetBytes = Math.round(envNumber('PAKIT_BENCH_CORPUS_MB', DEFAULT_MB) * 1e6);
  const dir = join(workDir, 'corpus');
  const manifestPath = join(workDir, 'corpus.plan.json');
  await mkdir(workDir, { recursive: true });

  const { entries, errors } = await plan(join(workDir, 'cache'), targetBytes);
  const manifest = JSON.stringify({ version: PLAN_VERSION, targetBytes, entries });
  const previous = existsSync(manifestPath) ? await readFile(manifestPath, 'utf8') : '';
  const reused = previous === manifest && intact(dir, entries);
  if (!reused) {
    progress(`corpus: writing ${entries.length} files to ${dir}`);
    await rm(manifestPath, { force: true }); // a half-written corpus must never look reusable
    await materialise(dir, entries);
    await writeFile(manifestPath, manifest);
  } else progress(`corpus: reusing ${dir} (same plan, intact)`);

  let digest: Promise<TreeDigest> | null = null;
  return {
    dir,
    targetBytes,
    totalBytes: entries.reduce((s, e) => s + e.size, 0),
    files: entries.length,
    categories: compose(entries, errors),
    reused,
    buildSeconds: round(Number(process.hrtime.bigint() - started) / 1e9, 2),
    digest: () => (digest ??= digestTree(dir)),
  };
}

export const corpusSection: Section = async (ctx: BenchContext) => {
  const c = await ctx.corpus();
  return {
    dir: c.dir,
    targetMB: round(c.targetBytes / 1e6, 1),
    totalBytes: c.totalBytes,
    totalMB: round(c.totalBytes / 1e6, 1),
    files: c.files,
    reused: c.reused,
    buildSeconds: c.buildSeconds,
    categories: c.categories,
  };
};
