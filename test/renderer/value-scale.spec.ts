import { describe, expect, it } from 'vitest';
import { valueScale } from '../../renderer/src/lib/value-scale.js';

describe('valueScale', () => {
  it('puts every value inside the plot, negative ones included, with zero on it', () => {
    // Savings by compression of an archive of a few tiny files: below zero, then above.
    const values = [0, -40, -25, 19];
    const s = valueScale(values, 10, 138);
    expect([s.low, s.high]).toEqual([-40, 19]);
    expect(s.y(-40)).toBe(138);
    expect(s.y(19)).toBe(10);
    for (const v of values) {
      expect(s.y(v)).toBeGreaterThanOrEqual(10);
      expect(s.y(v)).toBeLessThanOrEqual(138);
    }
    expect(s.y(0)).toBeCloseTo(138 - (40 / 59) * 128, 9);
  });

  it('keeps zero at the bottom for values that are all positive, and a flat zero series drawn on the axis', () => {
    const s = valueScale([0, 500, 2_000], 10, 138);
    expect([s.low, s.high, s.y(0), s.y(2_000), s.y(500)]).toEqual([0, 2_000, 138, 10, 106]);
    const flat = valueScale([0, 0], 10, 138);
    expect([flat.high, flat.y(0)]).toEqual([1, 138]);
  });

  it('ignores values that are not finite instead of scaling by them', () => {
    const s = valueScale([Number.NaN, 10, Number.POSITIVE_INFINITY, -Infinity], 0, 100);
    expect([s.low, s.high]).toEqual([0, 10]);
  });
});
