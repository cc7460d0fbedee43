// The one result shape every tool reports (pakit, borg, restic), so run.ts can compare them.
import { mkdir, rm } from 'node:fs/promises';
import type { Measured } from './measure.js';
import { mbps, progress, round } from './measure.js';
import type { Warmed } from './page-cache.js';
import type { Comparison } from './verify.js';

export interface Phase {
  seconds: number;
  /** Corpus bytes / wall seconds, MB = 10^6 bytes. */
  MBps?: number;
  peakRssMB: number | null;
  /** CPU time: with 2 cores, user+system > seconds shows the tool used both. */
  userSeconds: number | null;
  systemSeconds: number | null;
  loadAverage1m: number;
  /** For a first backup: the corpus read into the page cache just before (see page-cache.ts). */
  pageCacheWarmed?: Warmed;
}

export interface ToolResult {
  tool: string;
  version: string;
  settings: string;
  firstBackup: Phase;
  /** `du -sb` of the repository / data dir after the first backup. */
  storedBytes: number;
  storedMB: number;
  storedBytesAfterSecond: number;
  secondBackup: Phase;
  restore: Phase & { identical: boolean; verification: Comparison };
  [extra: string]: unknown;
}

export function phase(m: Measured, bytes?: number): Phase {
  return {
    seconds: m.seconds,
    ...(bytes !== undefined ? { MBps: mbps(bytes, m.seconds) } : {}),
    peakRssMB: m.peakRssMB,
    userSeconds: m.userSeconds,
    systemSeconds: m.systemSeconds,
    loadAverage1m: m.loadAverage1m,
  };
}

export function megabytes(bytes: number): number {
  return round(bytes / 1e6, 1);
}

/** A run directory that starts empty, so nothing (cache, repo) leaks in from an earlier run. */
export async function freshDir(path: string): Promise<string> {
  await rm(path, { recursive: true, force: true });
  await mkdir(path, { recursive: true });
  return path;
}

export async function removeUnlessKept(keep: boolean, ...paths: string[]): Promise<void> {
  if (keep) return;
  progress(`removing ${paths.join(', ')} (PAKIT_BENCH_KEEP=1 keeps it)`);
  for (const p of paths) await rm(p, { recursive: true, force: true });
}

/** An error result that still lets the rest of the bench run and the JSON say why. */
export function failure(err: unknown): { error: string } {
  return { error: err instanceof Error ? err.message : String(err) };
}
