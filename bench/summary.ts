// The comparison the bench exists for: Pakit against borg (the reference) and restic, as ratios.
// Targets are reported as met or not, never enforced: timing never fails the bench.
import type { Section } from './context.js';
import { round } from './measure.js';
import type { ToolResult } from './tool-result.js';

const TOOLS = ['pakit', 'borg', 'restic'] as const;

function asTool(value: unknown): ToolResult | null {
  return value && typeof value === 'object' && 'firstBackup' in value ? (value as ToolResult) : null;
}

function ratio(a: number | undefined, b: number | undefined): number | null {
  return a === undefined || b === undefined || b === 0 ? null : round(a / b, 3);
}

function versus(p: ToolResult, o: ToolResult) {
  const stored = ratio(p.storedBytes, o.storedBytes);
  return {
    // One first backup each, minutes apart: on this VM a command's time moves by 30–60 % from one
    // minute to the next (ingest-pairs.ts), so the target is judged on ingestVsBorgPaired, not here.
    ingestThroughput: { ratio: ratio(p.firstBackup.MBps, o.firstBackup.MBps) },
    storedBytes: { ratio: stored, target: '<= 1', met: stored !== null && stored <= 1 },
    // Time ratios: below 1 means Pakit is faster.
    secondStoreTime: { ratio: ratio(p.secondBackup.seconds, o.secondBackup.seconds) },
    restoreTime: { ratio: ratio(p.restore.seconds, o.restore.seconds) },
    peakRssFirstBackup: { ratio: ratio(p.firstBackup.peakRssMB ?? undefined, o.firstBackup.peakRssMB ?? undefined) },
  };
}

/** The ingest target (≥ 1.5× borg's throughput), from the ingest-pairs section's median. */
function pairedVerdict(pairs: unknown) {
  const median = (pairs as { median?: { ingestThroughputRatio?: unknown } } | undefined)?.median;
  const r = median?.ingestThroughputRatio;
  if (typeof r !== 'number') {
    const error = (pairs as { error?: unknown } | undefined)?.error;
    return { unavailable: typeof error === 'string' ? error : 'the ingest-pairs section did not run' };
  }
  return { ratio: r, target: '>= 1.5', met: r >= 1.5 };
}

export const summarySection: Section = async (ctx) => {
  const tools = Object.fromEntries(TOOLS.map((t) => [t, asTool(ctx.results[t])]));
  // One flat row per tool: the table docs/BENCHMARKS.md shows.
  const table = TOOLS.map((t) => {
    const r = tools[t];
    if (!r) {
      const raw = ctx.results[t] as { error?: string } | undefined;
      return { tool: t, error: raw?.error ?? 'section not run' };
    }
    return {
      tool: t,
      firstSeconds: r.firstBackup.seconds,
      firstMBps: r.firstBackup.MBps,
      firstPeakRssMB: r.firstBackup.peakRssMB,
      storedMB: r.storedMB,
      secondSeconds: r.secondBackup.seconds,
      restoreSeconds: r.restore.seconds,
      restoreIdentical: r.restore.identical,
    };
  });
  const pakit = tools.pakit;
  const why = pakit ? 'reference tool result missing' : 'pakit result missing (see its error)';
  return {
    table,
    // The ingest target's figure: the median of alternating pairs (ingest-pairs.ts).
    ingestVsBorgPaired: pairedVerdict(ctx.results['ingest-pairs']),
    pakitVsBorg: pakit && tools.borg ? versus(pakit, tools.borg) : { unavailable: why },
    pakitVsRestic: pakit && tools.restic ? versus(pakit, tools.restic) : { unavailable: why },
  };
};
