// Counts main-thread stalls: a 5 ms timer that notes every time it fires late by more than the
// threshold. monitorEventLoopDelay gives percentiles and the maximum; this gives how many stalls
// there were and how long each was, so "no stall over 50 ms" can be checked.

export interface StallReport {
  readonly thresholdMs: number;
  /** Stalls longer than the threshold. */
  readonly count: number;
  readonly maxMs: number;
  /** The longest stalls, longest first (at most 10), in milliseconds. */
  readonly longestMs: number[];
}

export interface StallWatch {
  stop(): StallReport;
}

const INTERVAL_MS = 5;

export function watchStalls(thresholdMs = 50): StallWatch {
  const stalls: number[] = [];
  let max = 0;
  let last = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const tick = (): void => {
    const now = performance.now();
    const late = now - last - INTERVAL_MS;
    if (late > max) max = late;
    if (late > thresholdMs) stalls.push(late);
    last = now;
    timer = setTimeout(tick, INTERVAL_MS);
  };
  timer = setTimeout(tick, INTERVAL_MS);
  return {
    stop(): StallReport {
      clearTimeout(timer);
      const r = (ms: number): number => Math.round(ms * 10) / 10;
      return {
        thresholdMs,
        count: stalls.length,
        maxMs: r(max),
        longestMs: [...stalls]
          .sort((a, b) => b - a)
          .slice(0, 10)
          .map(r),
      };
    },
  };
}
