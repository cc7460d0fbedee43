import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../shared/bytes.js';

/** The digits written out one byte at a time, independently of toHex's table. */
const slowHex = (bytes: Uint8Array): string => [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');

describe('hex', () => {
  it('writes every byte value as two lowercase digits, in order', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    expect(toHex(all)).toBe(slowHex(all));
    expect(toHex(all.subarray(250, 253))).toBe('fafbfc');
    expect(toHex(new Uint8Array(0))).toBe('');
  });

  it('gives each call its own string, whatever the length (the scratch buffer is reused)', () => {
    const a = toHex(Uint8Array.of(0xab, 0xcd));
    const b = toHex(new Uint8Array(64).fill(0x12));
    const c = toHex(new Uint8Array(65).fill(0xfe));
    expect([a, b.length, c.length]).toEqual(['abcd', 128, 130]);
    expect(b).toBe('12'.repeat(64));
    expect(c).toBe('fe'.repeat(65));
  });

  it('round-trips through fromHex, which refuses what toHex never writes', () => {
    const bytes = Uint8Array.from({ length: 100 }, (_, i) => (i * 37) % 256);
    expect(fromHex(toHex(bytes))).toEqual(bytes);
    for (const bad of ['abc', 'AB', '0g', ' 00']) expect(fromHex(bad)).toBeUndefined();
  });
});
