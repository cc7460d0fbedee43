import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { GrowthHistory } from '../../../main/archive/growth-history.js';
import type { BlockSpec } from '../../../main/dag/block-writer.js';
import { openArchive } from '../../helpers/archive.js';
import { prose, writeFile } from '../../helpers/files.js';
import { tempDir } from '../../helpers/tmp.js';

const metadataBlock = (i: number): BlockSpec => ({
  kind: 'snapshot',
  contentRoot: randomBytes(32),
  size: 100 + i,
  storedSize: 0,
  chunkCount: 0,
  codec: 'none',
  meta: { n: String(i) },
});

describe('growth history', () => {
  it('ends where pakit stats is, counting a chunk once, at the first block that references it', async () => {
    const a = await openArchive();
    const src = tempDir();
    const text = prose(600_000, 3);
    writeFile(src, 'deed.txt', text);
    writeFile(src, 'copy/deed.txt', Buffer.concat([text, Buffer.from(' and an appendix')])); // shares chunks: dedup
    writeFile(src, 'random.bin', randomBytes(300_000)); // does not compress
    await a.store([src]);

    // Small slices, so reading across slice and page boundaries is what is tested.
    const history = new GrowthHistory(a.ctx.db, { blocksPerSlice: 2, chunksPerSlice: 3 });
    await history.update();
    const stats = a.stats();
    const last = history.points(50).at(-1)!;
    expect(last).toMatchObject({
      seq: stats.blocks - 1,
      blocks: stats.blocks,
      originalBytes: stats.originalBytes,
      uniqueBytes: stats.uniqueBytes,
      storedBytes: stats.storedBytes,
    });
    expect(stats.dedupSavedBytes).toBeGreaterThan(400_000); // most of the copy cost nothing

    // The same answer whatever the slicing.
    const whole = new GrowthHistory(a.ctx.db);
    await whole.update();
    expect(whole.points(50)).toEqual(history.points(50));

    // Extended, not recomputed, as the archive grows: the old points stay, the end moves.
    writeFile(src, 'later.txt', prose(200_000, 4));
    await a.store([src]);
    await history.update();
    const after = a.stats();
    expect(history.points(50).at(-1)).toMatchObject({
      blocks: after.blocks,
      originalBytes: after.originalBytes,
      uniqueBytes: after.uniqueBytes,
      storedBytes: after.storedBytes,
    });
    expect(history.points(50)[0]).toMatchObject({ seq: 0, blocks: 1, originalBytes: 0 }); // genesis
  });

  it('keeps at most maxPoints, evenly thinned, cumulative and in order; answers at most the points asked for', async () => {
    const a = await openArchive();
    a.appendBlocks(Array.from({ length: 300 }, (_, i) => metadataBlock(i)));
    const history = new GrowthHistory(a.ctx.db, { maxPoints: 16, blocksPerSlice: 7 });
    await history.update();
    for (const n of [2, 5, 40]) {
      const points = history.points(n);
      expect(points.length).toBeLessThanOrEqual(Math.min(n, 17));
      expect(points[0]!.seq).toBe(0);
      expect(points.at(-1)).toMatchObject({
        seq: 300,
        blocks: 301,
        originalBytes: a.stats().originalBytes,
      });
      for (let i = 1; i < points.length; i++) {
        expect(points[i]!.seq).toBeGreaterThan(points[i - 1]!.seq);
        expect(points[i]!.ts).toBeGreaterThanOrEqual(points[i - 1]!.ts);
        expect(points[i]!.blocks).toBe(points[i]!.seq + 1);
        expect(points[i]!.originalBytes).toBeGreaterThan(points[i - 1]!.originalBytes);
      }
    }
  });

  it('shares one run between callers, and an empty slice changes nothing', async () => {
    const a = await openArchive();
    const history = new GrowthHistory(a.ctx.db);
    await Promise.all([history.update(), history.update()]);
    expect(history.points(10)).toEqual([expect.objectContaining({ seq: 0, blocks: 1 })]);
    await history.update();
    expect(history.points(10)).toHaveLength(1);
  });
});
