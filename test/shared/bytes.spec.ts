import { describe, expect, it } from 'vitest';
import { FieldReader, FieldWriter, compareBytes, fromHex, sortSmall, toHex } from '../../shared/bytes.js';

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

describe('sortSmall', () => {
  it('sorts in place as Array.prototype.sort would, stable, for every order of a few elements', () => {
    const cmp = (a: number, b: number) => a - b;
    expect(sortSmall([], cmp)).toEqual([]);
    expect(sortSmall([1], cmp)).toEqual([1]);
    const arr = [3, 1, 2];
    expect(sortSmall(arr, cmp)).toBe(arr);
    expect(arr).toEqual([1, 2, 3]);
    for (let seed = 0; seed < 200; seed++) {
      const xs = Array.from({ length: (seed % 9) + 2 }, (_, i) => ((seed * 7919 + i * 104_729) % 13) - 6);
      expect(sortSmall([...xs], cmp)).toEqual([...xs].sort(cmp));
    }
    // Equal keys keep their order (parents never tie, but the helper should not surprise).
    const pairs = [
      { k: 1, n: 'a' },
      { k: 0, n: 'b' },
      { k: 1, n: 'c' },
      { k: 0, n: 'd' },
    ];
    expect(sortSmall(pairs, (x, y) => x.k - y.k).map((p) => p.n)).toEqual(['b', 'd', 'a', 'c']);
    const hashes = [Uint8Array.of(2, 0), Uint8Array.of(1, 9), Uint8Array.of(2)];
    expect(sortSmall(hashes, compareBytes)).toEqual([Uint8Array.of(1, 9), Uint8Array.of(2), Uint8Array.of(2, 0)]);
  });
});

describe('FieldWriter strings', () => {
  it('writes the UTF-8 of ASCII, accented, astral and lone-surrogate strings, as TextEncoder does', () => {
    const cases = ['', 'name', 'naïve — ☃.txt', 'x'.repeat(700), 'a😀b', '😀', 'tail é', 'lone \ud800 x', 'end \udc00'];
    for (const s of cases) {
      const w = new FieldWriter();
      w.string(s);
      const bytes = w.finish().slice();
      const want = new TextEncoder().encode(s);
      expect(new DataView(bytes.buffer).getUint32(0, false)).toBe(want.length);
      expect(bytes.subarray(4)).toEqual(want);
      if (!s.includes('\ud800') && !s.includes('\udc00')) expect(new FieldReader(bytes).string('s')).toBe(s);
    }
  });
});
