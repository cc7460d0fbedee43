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
  const ingest = ratio(p.firstBackup.MBps, o.firstBackup.MBps);
  const stored = ratio(p.storedBytes, o.storedBytes);
  return {
    ingestThroughput: { ratio: ingest, target: '>= 1.5', met: ingest !== null && ingest >= 1.5 },
    storedBytes: { ratio: stored, target: '<= 1', met: stored !== null && stored <= 1 },
    // Time ratios: below 1 means Pakit is faster.
    secondStoreTime: { ratio: ratio(p.secondBackup.seconds, o.secondBackup.seconds) },
    restoreTime: { ratio: ratio(p.restore.seconds, o.restore.seconds) },
    peakRssFirstBackup: { ratio: ratio(p.firstBackup.peakRssMB ?? undefined, o.firstBackup.peakRssMB ?? undefined) },
  };
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
  const pairs = ctx.results['ingest-pairs'] as { median?: { ingestThroughputRatio: number } } | undefined;
  return {
    table,
    // The ingest target's figure: the median of alternating pairs (ingest-pairs.ts), when they ran.
    ...(pairs?.median
      ? {
          ingestVsBorgPaired: {
            ratio: pairs.median.ingestThroughputRatio,
            target: '>= 1.5',
            met: pairs.median.ingestThroughputRatio >= 1.5,
          },
        }
      : {}),
    pakitVsBorg: pakit && tools.borg ? versus(pakit, tools.borg) : { unavailable: why },
    pakitVsRestic: pakit && tools.restic ? versus(pakit, tools.restic) : { unavailable: why },
  };
};
