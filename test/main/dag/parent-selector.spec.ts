import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ParentSelector, type WindowBlock } from '../../../main/dag/parent-selector.js';
import { seeded } from '../../helpers/tmp.js';

/** Runs the rule for n blocks and records, per block, its parents and their state when chosen. */
function simulate(n: number, seed: number) {
  const sel = new ParentSelector({}, seeded(seed));
  const children = new Map<number, number>();
  const depth = new Map<number, number>([[0, 0]]);
  sel.add({ seq: 0, hash: randomBytes(32), depth: 0 });
  const picks: { seq: number; parents: { seq: number; depth: number; children: number }[]; maxDepth: number }[] = [];
  for (let seq = 1; seq <= n; seq++) {
    const maxDepth = sel.newest!.depth;
    const ps: WindowBlock[] = sel.choose();
    picks.push({
      seq,
      maxDepth,
      parents: ps.map((p) => ({ seq: p.seq, depth: p.depth, children: children.get(p.seq) ?? 0 })),
    });
    const d = 1 + Math.max(...ps.map((p) => p.depth));
    depth.set(seq, d);
    for (const p of ps) {
      children.set(p.seq, (children.get(p.seq) ?? 0) + 1);
      sel.addChild(p.seq);
    }
    sel.add({ seq, hash: randomBytes(32), depth: d });
  }
  return picks;
}

describe('balanced random parent rule', () => {
  const picks = simulate(25_000, 42);

  it('always links the newest block, with 2–5 distinct parents (1 only right after genesis)', () => {
    for (const p of picks) {
      const seqs = p.parents.map((x) => x.seq);
      expect(new Set(seqs).size).toBe(seqs.length);
      expect(seqs).toContain(p.seq - 1);
      if (p.seq === 1) expect(seqs).toEqual([0]);
      else {
        expect(seqs.length).toBeGreaterThanOrEqual(2);
        expect(seqs.length).toBeLessThanOrEqual(5);
      }
    }
  });

  it('draws every other parent from the last 10,000 depths', () => {
    for (const p of picks) for (const x of p.parents) expect(x.depth).toBeGreaterThan(p.maxDepth - 10_000);
    // And it really reaches far back, not only recent blocks.
    const late = picks.filter((p) => p.seq > 15_000);
    const farthest = Math.max(...late.flatMap((p) => p.parents.map((x) => p.maxDepth - x.depth)));
    expect(farthest).toBeGreaterThan(9_000);
  });

  it('adds an under-referenced recent block about 70% of the time', () => {
    const late = picks.filter((p) => p.seq > 2_000);
    const withUnder = late.filter((p) =>
      p.parents.some((x) => x.seq !== p.seq - 1 && x.children < 3 && x.depth > p.maxDepth - 1000),
    ).length;
    // Historical draws sometimes hit such a block too, so the share is at least ~0.7.
    expect(withUnder / late.length).toBeGreaterThan(0.66);
    expect(withUnder / late.length).toBeLessThan(0.95);
  });

  it('chooses 1–3 historical parents', () => {
    const late = picks.filter((p) => p.seq > 2_000);
    const sizes = new Map<number, number>();
    for (const p of late) sizes.set(p.parents.length, (sizes.get(p.parents.length) ?? 0) + 1);
    // newest + (0|1 under-referenced) + (1..3 historical) → 2..5 parents, each size present.
    for (const k of [2, 3, 4, 5]) expect(sizes.get(k) ?? 0).toBeGreaterThan(late.length * 0.05);
  });
});
