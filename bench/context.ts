// What every bench section receives. Sections are independent files registered in run.ts; they
// share only this context (where to work, the corpus, and earlier sections' results).
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TreeDigest } from './verify.js';

export interface CategoryComposition {
  describe: string;
  files: number;
  bytes: number;
  /** Bytes per top-level source directory, to show where the category really came from. */
  fromRoots: Record<string, number>;
  error?: string;
}

export interface CorpusInfo {
  dir: string;
  targetBytes: number;
  totalBytes: number;
  files: number;
  categories: Record<string, CategoryComposition>;
  /** True when an identical earlier corpus was found on disk and kept. */
  reused: boolean;
  buildSeconds: number;
  /** SHA-256 of every corpus file, computed once and shared by all restore checks. */
  digest(): Promise<TreeDigest>;
}

export interface BenchContext {
  repoRoot: string;
  /** PAKIT_BENCH_DIR, default <repo>/bench-work (gitignored). */
  workDir: string;
  /** Built on first use and memoised, so `run.js borg` alone still gets its corpus. */
  corpus(): Promise<CorpusInfo>;
  /** Results of the sections that ran before, by name (the summary section reads these). */
  results: Record<string, unknown>;
  /** PAKIT_BENCH_KEEP=1 keeps repositories and restores for inspection. */
  keep: boolean;
  /**
   * Removes `paths` when the whole run ends (unless kept), not when the section does. For restore
   * trees: on an ext4 without a journal (this machine's), creating files soon after tens of
   * thousands were deleted walks past the recently deleted inodes — a restore of the corpus right
   * after another was removed took 11.6–12.9 s instead of 7.0 — so one tool's cleanup would slow
   * the next tool's restore.
   */
  removeAtEnd(...paths: string[]): void;
}

export type Section = (ctx: BenchContext) => Promise<object>;

/** dist/bench/<file>.js → repository root (two levels up from dist/bench). */
export function repoRootFrom(moduleUrl: string): string {
  return resolve(fileURLToPath(new URL('.', moduleUrl)), '..', '..');
}

export function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, got ${JSON.stringify(raw)}`);
  return n;
}

/** The environment variables the bench reads; each run's JSON records their values (null: unset). */
export const BENCH_SETTINGS = [
  'PAKIT_BENCH_DIR',
  'PAKIT_BENCH_CORPUS_MB',
  'PAKIT_BENCH_KEEP',
  'PAKIT_BENCH_TIMEOUT_S',
  'PAKIT_BENCH_PAIRS',
  'PAKIT_BENCH_BLOCKS',
  'PAKIT_BENCH_DAG_RUNS',
  'PAKIT_BENCH_BIGFILE_MB',
  'PAKIT_BENCH_UI_FILES',
  'PAKIT_CHROMIUM',
] as const;
