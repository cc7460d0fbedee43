/**
 * A chart's vertical scale: maps values onto pixel rows so that every value lies inside the plot,
 * negative ones included (savings by compression are below zero while an archive holds only a few
 * tiny files), and zero is always on it.
 */
export interface ValueScale {
  /** The lowest value shown: 0, or the lowest value if that is negative. */
  readonly low: number;
  /** The highest value shown: the highest value, at least 1. */
  readonly high: number;
  /** The pixel row of `v`: `bottomPx` for `low`, `topPx` for `high`. */
  readonly y: (v: number) => number;
}

export function valueScale(values: Iterable<number>, topPx: number, bottomPx: number): ValueScale {
  let low = 0;
  let high = 1;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    if (v < low) low = v;
    if (v > high) high = v;
  }
  const span = high - low;
  return { low, high, y: (v) => bottomPx - ((v - low) / span) * (bottomPx - topPx) };
}
