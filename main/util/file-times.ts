/**
 * Times for Node's `utimes`/`futimes` that set a file's modification time to exactly a recorded
 * millisecond.
 *
 * Node hands libuv the time as a double of seconds, and libuv turns it into a timespec by
 * truncation, then drops the nanoseconds below a microsecond (`uv__fs_to_timespec`). 1761594985.360 s
 * is held as the double 1761594985.35999989…, so `new Date(1761594985360)` set .359999000: a
 * millisecond early in every second file. Among the doubles next to ms / 1000 is one that comes
 * out as the exact millisecond, for every time a double holds to under a microsecond (until 2242).
 */

const f64 = new Float64Array(1);
const u64 = new BigUint64Array(f64.buffer);

/** The double after (`step` 1) or before (−1) a finite positive `x`. */
function nextDouble(x: number, step: 1 | -1): number {
  f64[0] = x;
  u64[0] = u64[0]! + BigInt(step);
  return f64[0];
}

/** What libuv makes of `seconds`: whole seconds and nanoseconds, truncated to microseconds. */
function asTimespec(seconds: number): [number, number] {
  const sec = Math.trunc(seconds);
  const nsec = Math.trunc((seconds - sec) * 1e9);
  return [sec, nsec - (nsec % 1000)];
}

/**
 * Seconds to pass to `utimes`/`futimes` so the file's mtime reads `ms` exactly. Outside what a
 * timespec can be set to exactly through Node (not a whole, non-negative millisecond, or past 2242)
 * this is ms / 1000, as close as Node allows. Node itself sets a negative time as the current one.
 */
export function utimeSeconds(ms: number): number {
  const plain = ms / 1000;
  if (!Number.isSafeInteger(ms) || ms <= 0) return plain;
  const wantSec = Math.floor(ms / 1000);
  const wantNsec = (ms % 1000) * 1_000_000;
  let below = plain;
  let above = plain;
  for (let i = 0; i < 16; i++) {
    for (const t of i === 0 ? [plain] : [above, below]) {
      const [sec, nsec] = asTimespec(t);
      if (sec === wantSec && nsec === wantNsec) return t;
    }
    above = nextDouble(above, 1);
    below = nextDouble(below, -1);
  }
  return plain;
}

/**
 * The mtime a block's metadata records (`meta.mtime`, whole milliseconds as decimal text), or
 * undefined when it records none a file can be given: absent, negative or not a whole number.
 */
export function recordedMtimeMs(text: string | undefined): number | undefined {
  return text !== undefined && /^\d{1,15}$/.test(text) ? Number(text) : undefined;
}
