import { describe, expect, it } from 'vitest';
import {
  decodeSnapshot,
  encodeSnapshot,
  encodeSnapshotAsync,
  encodeSnapshotParts,
  type SnapshotEntry,
} from '../../../main/archive/snapshot.js';
import { seeded } from '../../helpers/tmp.js';

describe('snapshot manifests', () => {
  it('encodeSnapshotAsync writes exactly the bytes encodeSnapshot does, for trees of any size', async () => {
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
      expect((await encodeSnapshotAsync(entries)).equals(sync)).toBe(true);
      expect(Buffer.concat(await encodeSnapshotParts(entries)).equals(sync)).toBe(true);
      expect(decodeSnapshot(sync).entries).toHaveLength(n);
    }
  });
});
