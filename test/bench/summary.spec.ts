import { describe, expect, it } from 'vitest';
import type { BenchContext, CorpusInfo } from '../../bench/context.js';
import { summarySection } from '../../bench/summary.js';
import type { Phase, ToolResult } from '../../bench/tool-result.js';

function phase(seconds: number, MBps?: number): Phase {
  return {
    seconds,
    ...(MBps !== undefined ? { MBps } : {}),
    peakRssMB: 100,
    userSeconds: 1,
    systemSeconds: 1,
    loadAverage1m: 0,
  };
}

function tool(name: string, firstMBps: number, storedBytes: number): ToolResult {
  return {
    tool: name,
    version: '1',
    settings: '',
    firstBackup: phase(500 / firstMBps, firstMBps),
    storedBytes,
    storedMB: storedBytes / 1e6,
    storedBytesAfterSecond: storedBytes,
    secondBackup: phase(2),
    restore: { ...phase(8), identical: true, verification: {} as ToolResult['restore']['verification'] },
  };
}

function contextWith(results: Record<string, unknown>): BenchContext {
  const corpus = { dir: '/nowhere' } as CorpusInfo;
  return {
    repoRoot: '/',
    workDir: '/',
    corpus: () => Promise.resolve(corpus),
    results,
    keep: false,
    removeAtEnd: () => {},
  };
}

interface Summary {
  ingestVsBorgPaired: { ratio?: number; met?: boolean; unavailable?: string };
  pakitVsBorg: { ingestThroughput: { ratio: number; met?: boolean }; storedBytes: { ratio: number; met: boolean } };
}

describe('bench: the summary', () => {
  it('judges the ingest target on the paired median alone, whatever the single runs say', async () => {
    // Single runs minutes apart say 1.2×; the pairs' median says 1.61×.
    const results = {
      pakit: tool('pakit', 84, 191e6),
      borg: tool('borg', 70, 196e6),
      restic: tool('restic', 67, 201e6),
      'ingest-pairs': { median: { ingestThroughputRatio: 1.614 } },
    };
    const s = (await summarySection(contextWith(results))) as Summary;
    expect(s.ingestVsBorgPaired).toEqual({ ratio: 1.614, target: '>= 1.5', met: true });
    expect(s.pakitVsBorg.ingestThroughput).toEqual({ ratio: 1.2 });
    expect(s.pakitVsBorg.storedBytes).toEqual({ ratio: 0.974, target: '<= 1', met: true });

    results['ingest-pairs'] = { median: { ingestThroughputRatio: 1.499 } };
    const missed = (await summarySection(contextWith(results))) as Summary;
    expect(missed.ingestVsBorgPaired).toEqual({ ratio: 1.499, target: '>= 1.5', met: false });

    results['ingest-pairs'] = { median: { ingestThroughputRatio: 1.5 } };
    const exactly = (await summarySection(contextWith(results))) as Summary;
    expect(exactly.ingestVsBorgPaired).toEqual({ ratio: 1.5, target: '>= 1.5', met: true });
  });

  it('says why there is no verdict when the pairs did not run or failed', async () => {
    const tools = { pakit: tool('pakit', 84, 191e6), borg: tool('borg', 70, 196e6) };
    const none = (await summarySection(contextWith(tools))) as Summary;
    expect(none.ingestVsBorgPaired).toEqual({ unavailable: 'the ingest-pairs section did not run' });

    const failed = (await summarySection(
      contextWith({ ...tools, 'ingest-pairs': { error: 'not installed: apt-get install borgbackup' } }),
    )) as Summary;
    expect(failed.ingestVsBorgPaired).toEqual({ unavailable: 'not installed: apt-get install borgbackup' });
  });
});
