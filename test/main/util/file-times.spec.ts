import { closeSync, futimesSync, openSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { recordedMtimeMs, utimeSeconds } from '../../../main/util/file-times.js';
import { tempDir } from '../../helpers/tmp.js';

/** Sets `file`'s times to `seconds` through a descriptor, as a restore does, and reads its mtime back in ns. */
function setAndRead(file: string, seconds: number): bigint {
  const fd = openSync(file, 'r+');
  try {
    futimesSync(fd, seconds, seconds);
  } finally {
    closeSync(fd);
  }
  return statSync(file, { bigint: true }).mtimeNs;
}

describe('utimeSeconds', () => {
  const file = join(tempDir(), 'f');
  writeFileSync(file, 'x');
  // Whole milliseconds: 1761594985360 is one that ms / 1000 sets a microsecond early
  // (…985.359999000); the rest are spread from 1970 to 2242, where a double still holds a
  // microsecond (the golden ratio's multiples, so the milliseconds within a second vary too).
  const spread = Array.from({ length: 400 }, (_, i) => Math.floor(((i * 0.6180339887) % 1) * 8_500_000_000_000));
  const times = [1, 999, 1000, 1001, 1_500_000_000_000, 1761594985360, 4_294_967_296_123, ...spread];

  it('sets each whole millisecond exactly, where ms / 1000 does not', () => {
    const plainMisses = times.filter((ms) => setAndRead(file, ms / 1000) !== BigInt(ms) * 1_000_000n);
    expect(plainMisses).toContain(1761594985360);
    expect(plainMisses.length).toBeGreaterThan(times.length / 4);
    const misses = times.filter((ms) => setAndRead(file, utimeSeconds(ms)) !== BigInt(ms) * 1_000_000n);
    expect(misses).toEqual([]);
  });

  it('gives ms / 1000 for what cannot be set exactly: fractions of a ms, zero, negative, past 2242', () => {
    for (const ms of [1.5, 0, -1000, -1500, 2 ** 60]) expect(utimeSeconds(ms)).toBe(ms / 1000);
  });

  it('reads a recorded mtime only as whole, non-negative milliseconds', () => {
    expect(recordedMtimeMs('1761594985360')).toBe(1_761_594_985_360);
    expect(recordedMtimeMs('0')).toBe(0);
    for (const bad of [undefined, '', '-5', '1.5', '1e3', ' 12', '0x10', '1234567890123456'])
      expect(recordedMtimeMs(bad), String(bad)).toBeUndefined();
  });
});
