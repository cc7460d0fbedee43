import { describe, expect, it } from 'vitest';
import { singleFlight } from '../../renderer/src/lib/single-flight.js';

describe('singleFlight', () => {
  it('gives a second caller the pending promise of its key, and starts afresh once it settled', async () => {
    const run = singleFlight<number>();
    let starts = 0;
    let release!: (n: number) => void;
    const start = (): Promise<number> => {
      starts++;
      return new Promise((r) => (release = r));
    };
    const a = run('0:3', start);
    const b = run('0:3', start);
    const other = run('0:4', () => Promise.resolve(4));
    expect(b).toBe(a);
    expect(starts).toBe(1);
    release(3);
    expect(await b).toBe(3);
    expect(await other).toBe(4);
    run('0:3', start);
    expect(starts).toBe(2);
  });

  it('lets a key start again after its work failed', async () => {
    const run = singleFlight<number>();
    await expect(run('k', () => Promise.reject(new Error('offline')))).rejects.toThrow('offline');
    expect(await run('k', () => Promise.resolve(7))).toBe(7);
  });
});
