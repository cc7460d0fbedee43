import { spawnSync } from 'node:child_process';
import { cpus } from 'node:os';
import { describe, expect, it } from 'vitest';
import { measureCoreSpeed } from '../../bench/core-speed.js';

const hasTaskset = spawnSync('taskset', ['-V']).status === 0;

describe('bench: each core timed on the same work', () => {
  it.runIf(hasTaskset)('gives one time per core, alone and all at once, each a plausible number of ms', async () => {
    const speed = await measureCoreSpeed();
    expect('ms' in speed).toBe(true);
    const { ms, together } = speed as { ms: number[]; together: number[] };
    expect(ms).toHaveLength(cpus().length);
    expect(together).toHaveLength(cpus().length);
    for (const t of [...ms, ...together]) {
      expect(t).toBeGreaterThan(1); // SHA-256 of 98 MB and 2.6 M strided updates: not instant
      expect(t).toBeLessThan(60_000);
    }
  });

  it('reports a missing taskset instead of failing the bench', async () => {
    expect(await measureCoreSpeed({ PATH: '' })).toEqual({ unavailable: 'taskset not found (util-linux)' });
  });
});
