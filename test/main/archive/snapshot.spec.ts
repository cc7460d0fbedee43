import { describe, expect, it } from 'vitest';
import { decodeSnapshot, encodeSnapshot, type SnapshotEntry } from '../../../main/archive/snapshot.js';
import { snapshotParts } from '../../../main/archive/manifest-writer.js';
import { seeded } from '../../helpers/tmp.js';

/** The parts snapshotParts makes, joined. */
async function encodeParts(entries: readonly SnapshotEntry[]): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of snapshotParts(entries)) parts.push(part);
  return Buffer.concat(parts);
}

describe('snapshot manifests', () => {
  it('snapshotParts makes exactly the bytes encodeSnapshot does, for trees of any size', async () => {
    const rand = seeded(3);
    // Sizes around the slices, and enough for several rounds of merging sorted runs. The names mix
    // an astral character (a surrogate pair, U+D83D…) with U+FF5A, which code units order the other
    // way round from code points: the sort must compare as `<` does.
    const odd = ['', 'ü', '😀', 'ｚ'];
    for (const n of [0, 1, 2047, 2048, 2049, 5000, 20_001]) {
      const entries: SnapshotEntry[] = Array.from({ length: n }, (_, i) => {
        const path = `d${Math.floor(rand() * 50)}/${odd[Math.floor(rand() * 4)]}f${i}-${'ü'.repeat(i % 3)}"q".txt`;
        const hash = i.toString(16).padStart(64, '0');
        return i % 7 === 0
          ? { path, type: 'symlink', mtime: i, target: `../t${i}`, hash }
          : { path, type: 'file', mode: 0o644, mtime: i * 1000, size: i, hash };
      });
      const sync = encodeSnapshot(entries);
      expect((await encodeParts(entries)).equals(sync)).toBe(true);
      expect(decodeSnapshot(sync).entries).toHaveLength(n);
    }
  });

  it('writes every string and number as JSON.stringify does: escapes, lone surrogates, odd numbers', async () => {
    // Each of these must be escaped (quote, backslash, control characters, unpaired surrogates) or
    // must not be (DEL, U+2028, a pair, accents): the manifest writer escapes only what
    // JSON.stringify does, and hands what it does not write itself to JSON.stringify.
    const pieces = [
      '"',
      '\\',
      '\u0000',
      '\n',
      '\t',
      '\u001f',
      '\ud800',
      '\udfff',
      '\udc00\ud800',
      '😀',
      '\u007f',
      '\u2028',
      'é',
      '/',
      'x',
    ];
    const rand = seeded(5);
    const pick = (n: number): string =>
      Array.from({ length: n }, () => pieces[Math.floor(rand() * pieces.length)]).join('');
    const numbers = [0, -0, 1, -1, 0o644, 2 ** 53 - 1, -(2 ** 40), 1e21, 1.5];
    const num = (): number => numbers[Math.floor(rand() * numbers.length)]!;
    const entries: SnapshotEntry[] = [];
    for (let i = 0; i < 3000; i++) {
      const path = `p${i}/${pick(1 + (i % 6))}`;
      const hash = i % 50 === 0 ? pick(3) : i.toString(16).padStart(64, '0');
      if (i % 3 === 0) entries.push({ path, type: 'symlink', mtime: num(), target: pick(1 + (i % 4)), hash });
      else if (i % 3 === 1) entries.push({ path, type: 'file', mode: num(), mtime: num(), size: num(), hash });
      else entries.push({ path, type: 'dir', mode: num(), mtime: num() });
    }
    // Not made by a walk, but what the format says for them is what JSON.stringify says.
    entries.push({ path: 'nan', type: 'file', mode: Number.NaN, mtime: Infinity, size: 1, hash: 'h' });
    entries.push({ path: 'missing', type: 'dir', mtime: 5 } as unknown as SnapshotEntry);
    const got = await encodeParts(entries);
    expect(got.toString('utf8')).toBe(encodeSnapshot(entries).toString('utf8'));
    expect(got.equals(encodeSnapshot(entries))).toBe(true);
  });

  it('sorts a walk’s nearly ordered entries and shuffled ones alike, one entry per path, the last given winning', async () => {
    const file = (path: string, size: number): SnapshotEntry => ({
      path,
      type: 'file',
      mode: 0o644,
      mtime: size,
      size,
      hash: size.toString(16).padStart(64, '0'),
    });
    // A walk's order: each directory's names in byte order, a directory's entries right after it,
    // so "d1/…" comes before "d1.txt" although "." sorts before "/".
    const walk: SnapshotEntry[] = [];
    for (let d = 10; d < 40; d++) {
      walk.push({ path: `d${d}`, type: 'dir', mode: 0o755, mtime: d });
      for (let f = 100; f < 200; f++) walk.push(file(`d${d}/f${f}`, d * 1000 + f));
      walk.push(file(`d${d}.txt`, 100_000 + d));
    }
    const rand = seeded(11);
    const shuffled = [...walk].sort(() => rand() - 0.5);
    // One entry in a hundred out of order, and half of them: the two ways the sort goes.
    const descents = (es: SnapshotEntry[]) => es.filter((e, i) => i > 0 && e.path < es[i - 1]!.path).length;
    expect(descents(walk)).toBe(30);
    expect(descents(shuffled)).toBeGreaterThan(walk.length / 3);
    const want = encodeSnapshot(walk);
    for (const entries of [walk, shuffled]) {
      expect((await encodeParts(entries)).equals(want)).toBe(true);
      // The same path again, later: it replaces the first, wherever that one was.
      const again = [...entries, file('d17/f103', 99_999), file('d10.txt', 88_888)];
      const decoded = decodeSnapshot(await encodeParts(again)).entries;
      expect(decoded).toHaveLength(walk.length);
      expect(decoded.find((e) => e.path === 'd17/f103')).toMatchObject({ size: 99_999 });
      expect(decoded.find((e) => e.path === 'd10.txt')).toMatchObject({ size: 88_888 });
      expect(decoded.map((e) => e.path)).toEqual(decodeSnapshot(want).entries.map((e) => e.path));
    }
  });
});
