import { describe, expect, it } from 'vitest';
import { measurePauses, type NanoClock } from '../../bench/cpu-pauses.js';

/** A clock that advances `stepNs` per reading, and `pauseNs` more on every `every`-th reading. */
function scriptedClock(stepNs: number, every: number, pauseNs: number): NanoClock {
  let t = 1_000_000_000n;
  let n = 0;
  return () => {
    n++;
    t += BigInt(stepNs + (n % every === 0 ? pauseNs : 0));
    return t;
  };
}

describe('bench: CPU pause probe', () => {
  it('counts the gaps over the threshold, with their interval, length and share of the time', () => {
    // 1 µs per reading, a 50 µs pause every 1,000 readings: one pause each 1.05 ms, 4.8 % lost.
    const r = measurePauses(105, 20, scriptedClock(1_000, 1_000, 50_000));
    expect(r.pauses).toBe(100);
    expect(r.medianIntervalMs).toBeCloseTo(1.05, 2);
    expect(r.medianPauseUs).toBeCloseTo(51, 1);
    expect(r.maxPauseUs).toBeCloseTo(51, 1);
    expect(r.pausesPerSecond).toBeGreaterThanOrEqual(950);
    expect(r.pausesPerSecond).toBeLessThanOrEqual(953);
    expect(r.lostPercent).toBeCloseTo(4.86, 1);
  });

  it('ignores gaps under the threshold', () => {
    const r = measurePauses(10, 20, scriptedClock(1_000, 100, 15_000));
    expect(r.pauses).toBe(0);
    expect(r.medianPauseUs).toBeNull();
    expect(r.medianIntervalMs).toBeNull();
    expect(r.lostPercent).toBe(0);
  });

  it('refuses a loop or threshold that is not positive', () => {
    expect(() => measurePauses(0)).toThrow(/loopMs and thresholdUs must be positive/);
    expect(() => measurePauses(10, -1)).toThrow(/must be positive/);
  });
});
