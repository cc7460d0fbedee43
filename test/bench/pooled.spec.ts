import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { medianInterval95, pairsRunOf, pooledGroups, pooledReport, type PairsRun } from '../../bench/pooled.js';

const POOLED = join(import.meta.dirname, '..', '..', 'dist', 'bench', 'pooled.js');

/** A saved bench result with an ingest-pairs section, as run.ts writes it. */
function result(startedAt: string, ratios: number[], code?: { commit: string | null; dirty: boolean | null }) {
  const sorted = [...ratios].sort((a, b) => a - b);
  return {
    startedAt,
    ...(code ? { code } : {}),
    'ingest-pairs': {
      pairs: ratios.map((ratio) => ({ order: 'pakit, borg', ratio })),
      median: { ingestThroughputRatio: sorted[sorted.length >> 1] },
    },
  };
}

function run(startedAt: string, ratios: number[], commit: string | null, dirty: boolean | null = false): PairsRun {
  const r = pairsRunOf(result(startedAt, ratios, { commit, dirty }), `${startedAt}.json`);
  if (typeof r === 'string') throw new Error(r);
  return r;
}

describe('bench pooled: a distribution-free interval for the median', () => {
  const oneTo = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);

  it('uses the order statistics the binomial distribution gives', () => {
    // n = 10: P(X ≤ 1) = 11/1024 ≤ 2.5 % < P(X ≤ 2) = 56/1024, so x(2) and x(9).
    expect(medianInterval95(oneTo(10))).toEqual([2, 9]);
    // n = 6: only the extremes cover 95 % (1 − 2/64).
    expect(medianInterval95(oneTo(6))).toEqual([1, 6]);
    expect(medianInterval95(oneTo(5))).toBeNull();
  });

  it('stays finite for thousands of values, where 2^-n underflows', () => {
    const [lo, hi] = medianInterval95(oneTo(2000))!;
    // The normal approximation: 1000 ± 1.96·√2000/2 ≈ 1000 ± 44.
    expect(lo).toBeGreaterThanOrEqual(953);
    expect(lo).toBeLessThanOrEqual(958);
    expect(hi).toBe(2001 - lo);
  });
});

describe('bench pooled: reading saved results', () => {
  it('takes the pairs, the median and the code measured', () => {
    const r = pairsRunOf(result('2026-12-03T23:00:00Z', [1.6, 1.4, 1.7], { commit: 'abc', dirty: true }), 'f');
    expect(r).toEqual({
      file: 'f',
      startedAt: '2026-12-03T23:00:00Z',
      commit: 'abc',
      dirty: true,
      median: 1.6,
      ratios: [1.6, 1.4, 1.7],
    });
    // Results from before `code` was recorded belong to no commit.
    expect(pairsRunOf(result('t', [1.6]), 'f')).toMatchObject({ commit: null, dirty: null });
  });

  it('names what a result without usable pairs lacks', () => {
    expect(pairsRunOf([], 'f')).toBe('not a JSON object');
    expect(pairsRunOf({ dag: {} }, 'f')).toBe('no ingest-pairs section');
    expect(pairsRunOf({ 'ingest-pairs': { error: 'borg not installed' } }, 'f')).toBe(
      'ingest-pairs failed: borg not installed',
    );
    expect(pairsRunOf({ 'ingest-pairs': { pairs: [], median: { ingestThroughputRatio: 1.6 } } }, 'f')).toBe(
      'ingest-pairs has no pairs',
    );
    const bad = result('t', [1.6, 1.5]);
    (bad['ingest-pairs'].pairs[1] as { ratio: unknown }).ratio = '1.5';
    expect(pairsRunOf(bad, 'f')).toBe('a pair without a ratio');
  });
});

describe('bench pooled: grouping runs by the code they measured', () => {
  it('pools each commit apart, a dirty tree apart from its commit, runs in time order', () => {
    const groups = pooledGroups([
      run('2026-12-03T23:05:00Z', [1.6, 1.45, 1.7, 1.44, 1.49], 'c1'), // median 1.49: a miss
      run('2026-12-03T23:00:00Z', [1.62, 1.66, 1.65, 1.7, 1.64], 'c1'),
      run('2026-12-03T23:10:00Z', [1.2, 1.3, 1.25], 'c1', true),
      run('2026-12-03T22:00:00Z', [2, 2, 2], 'c0'),
    ]);
    expect(groups.map((g) => [g.commit, g.dirty, g.runs])).toEqual([
      ['c0', false, 1],
      ['c1', false, 2],
      ['c1', true, 1],
    ]);
    const c1 = groups[1]!;
    expect(c1.firstStartedAt).toBe('2026-12-03T23:00:00Z');
    expect(c1.lastStartedAt).toBe('2026-12-03T23:05:00Z');
    expect(c1.runMedians).toEqual({ min: 1.49, median: 1.57, max: 1.65, belowTarget: 1 });
    expect(c1.pairs.count).toBe(10);
    expect(c1.pairs.belowTarget).toBe(3);
    // Sorted: 1.44 1.45 1.49 1.6 1.62 1.64 1.65 1.66 1.7 1.7 → median (1.62 + 1.64) / 2, x(2)…x(9).
    expect(c1.pairs.median).toBe(1.63);
    expect(c1.pairs.medianInterval95).toEqual([1.45, 1.7]);
  });
});

describe('bench pooled: the command', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pakit-pooled-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a results folder, pools by commit, and lists what it skipped', () => {
    writeFileSync(
      join(dir, 'a.json'),
      JSON.stringify(result('2026-12-03T23:00:00Z', [1.6, 1.7, 1.5], { commit: 'ab12cd', dirty: false })),
    );
    writeFileSync(
      join(dir, 'b.json'),
      JSON.stringify(result('2026-12-03T23:02:00Z', [1.4, 1.45, 1.8], { commit: 'ab12cd', dirty: false })),
    );
    writeFileSync(
      join(dir, 'c.json'),
      JSON.stringify(result('2026-12-03T23:04:00Z', [1.9], { commit: 'ff00', dirty: false })),
    );
    writeFileSync(join(dir, 'broken.json'), '{"startedAt": ');
    writeFileSync(join(dir, 'notes.txt'), 'not a result');
    const out = spawnSync(process.execPath, [POOLED, '--commit', 'ab12', dir], { encoding: 'utf8' });
    expect(out.stderr).toBe('');
    expect(out.status).toBe(0);
    const report = JSON.parse(out.stdout) as ReturnType<typeof pooledReport>;
    expect(report.files).toBe(4);
    expect(report.skipped.map((s) => [s.file, s.why.split(':')[0]])).toEqual([
      [join(dir, 'broken.json'), 'not readable JSON'],
    ]);
    expect(report.groups).toHaveLength(1);
    expect(report.groups[0]).toMatchObject({
      commit: 'ab12cd',
      runs: 2,
      runMedians: { min: 1.45, max: 1.6, belowTarget: 1 },
      pairs: { count: 6, median: 1.55, belowTarget: 2, medianInterval95: [1.4, 1.8] },
    });
  });

  it('refuses bad usage with exit 2 and says what was wrong', () => {
    const badCommit = spawnSync(process.execPath, [POOLED, '--commit', 'XYZ', dir], { encoding: 'utf8' });
    expect(badCommit.status).toBe(2);
    expect(badCommit.stderr).toBe('pooled: --commit needs 4 to 40 lowercase hex digits, not "XYZ"\n');
    const missing = spawnSync(process.execPath, [POOLED, join(dir, 'nowhere')], { encoding: 'utf8' });
    expect(missing.status).toBe(2);
    expect(missing.stderr).toBe(`pooled: no such file or directory: ${join(dir, 'nowhere')}\n`);
    expect(missing.stdout).toBe('');
  });
});
