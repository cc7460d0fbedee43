// How often this thread loses the CPU for a moment, and for how long: a tight loop that only reads
// the clock, noting every gap between two readings longer than a threshold.
//
// On the VM this bench was written on, the loop loses ~40–55 µs one to two thousand times a second.
// Most of it is not ours: under perf the time lands in the guest kernel as interrupts are re-enabled
// (pvm_irq_enable), at a steady 1 ms period; the rest are V8 minor GCs that the loop's own clock
// readings cause (--trace-gc: 84 scavenges in a 300 ms loop that saw ~480 pauses). Whatever their
// source, an operation that takes d µs is hit by one with probability ≈ d × pausesPerSecond / 1e6,
// so a fast operation's p99 is either its own tail or a pause's length, depending on whether that
// probability is under or over 1 %: a hash lookup taking 9 µs is hit 1–2 % of the time, and its p99
// moved between 45 and 58 µs from run to run (the same lookups inside one read transaction, 4 µs
// each, stay at 7–16 µs). The dag section reports this probe beside its lookup figures so a reader
// can tell which one a p99 shows.

export interface PauseReport {
  /** How long the loop ran, ms. */
  readonly loopMs: number;
  /** Gaps longer than this were counted, µs. */
  readonly thresholdUs: number;
  readonly pauses: number;
  readonly pausesPerSecond: number;
  /** Median time from one pause's start to the next one's, ms (null: fewer than two pauses). */
  readonly medianIntervalMs: number | null;
  /** Median and longest pause, µs (null: none). */
  readonly medianPauseUs: number | null;
  readonly maxPauseUs: number | null;
  /** Share of the loop's time lost in pauses, %. */
  readonly lostPercent: number;
}

/** A clock in nanoseconds, as process.hrtime.bigint() gives it (replaceable for tests). */
export type NanoClock = () => bigint;

function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

/**
 * Spins for `loopMs` reading `clock`, and reports the gaps between consecutive readings longer than
 * `thresholdUs`. Synchronous on purpose: the loop must not yield, or the event loop's own work
 * would count as pauses.
 */
export function measurePauses(loopMs = 300, thresholdUs = 20, clock: NanoClock = process.hrtime.bigint): PauseReport {
  if (!(loopMs > 0) || !(thresholdUs > 0)) throw new RangeError('loopMs and thresholdUs must be positive');
  const threshold = BigInt(Math.round(thresholdUs * 1000));
  const start = clock();
  const end = start + BigInt(Math.round(loopMs * 1e6));
  const starts: bigint[] = [];
  const lengths: number[] = [];
  let last = start;
  let lost = 0n;
  for (;;) {
    const now = clock();
    const gap = now - last;
    if (gap > threshold) {
      starts.push(last);
      lengths.push(Number(gap) / 1000);
      lost += gap;
    }
    last = now;
    if (now >= end) break;
  }
  const ran = Number(last - start);
  const intervals = starts.slice(1).map((s, i) => Number(s - starts[i]!) / 1e6);
  const r = (n: number | null, d = 10): number | null => (n === null ? null : Math.round(n * d) / d);
  return {
    loopMs: r(ran / 1e6)!,
    thresholdUs,
    pauses: lengths.length,
    pausesPerSecond: Math.round(lengths.length / (ran / 1e9)),
    medianIntervalMs: r(median(intervals), 100),
    medianPauseUs: r(median(lengths)),
    maxPauseUs: lengths.length > 0 ? r(Math.max(...lengths)) : null,
    lostPercent: r((100 * Number(lost)) / ran, 100)!,
  };
}
