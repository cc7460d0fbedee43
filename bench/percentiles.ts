/** Latency summaries in microseconds from nanosecond samples. */
export interface Latency {
  samples: number;
  p50us: number;
  p99us: number;
  maxus: number;
}

export function latency(samplesNs: number[]): Latency {
  const s = [...samplesNs].sort((a, b) => a - b);
  const at = (q: number): number => s[Math.min(s.length - 1, Math.floor(q * s.length))]! / 1000;
  const r = (n: number): number => Math.round(n * 100) / 100;
  return { samples: s.length, p50us: r(at(0.5)), p99us: r(at(0.99)), maxus: r(s.at(-1)! / 1000) };
}

/** Times `fn` once per item, returning nanoseconds per call. */
export function timeEach<T>(items: readonly T[], fn: (item: T) => unknown): number[] {
  const out: number[] = [];
  for (const it of items) {
    const t = process.hrtime.bigint();
    fn(it);
    out.push(Number(process.hrtime.bigint() - t));
  }
  return out;
}
