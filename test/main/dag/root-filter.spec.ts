import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDb, type Db } from '../../../main/db/database.js';
import { RootFilter } from '../../../main/dag/root-filter.js';
import {
  BlockWriter,
  FILTER_AFTER_PROBES,
  FILTER_STEP,
  ROOTS_IN_RANGE,
  type BlockSpec,
} from '../../../main/dag/block-writer.js';
import { spec as metadataBlock } from '../../../bench/dag-million.js';
import { seeded, tempDir } from '../../helpers/tmp.js';

describe('root filter', () => {
  it('never says no to a prefix it holds, and rarely yes to one it does not, across layers', () => {
    const filter = new RootFilter(10_000);
    const held = Array.from({ length: 35_000 }, () => randomBytes(32));
    for (const r of held) filter.add(r);
    // 10,000 + 20,000 full, the third (40,000) an eighth full.
    expect(filter.layers).toBe(3);
    expect(filter.count).toBe(35_000);
    expect(held.filter((r) => !filter.mayHave(r))).toHaveLength(0);
    const others = Array.from({ length: 50_000 }, () => randomBytes(32));
    const wrong = others.filter((r) => filter.mayHave(r)).length;
    // Two full layers (~0.8 % each) and one nearly empty: about 1.6 %; a bad hash would be far off.
    expect(wrong / others.length).toBeLessThan(0.025);
    expect(wrong).toBeGreaterThan(0);
  });

  it('keys on the first 8 bytes only, as the identity index does', () => {
    const filter = new RootFilter(100);
    const root = randomBytes(32);
    filter.add(root);
    const sameStart = Buffer.concat([root.subarray(0, 8), randomBytes(24)]);
    expect(filter.mayHave(sameStart)).toBe(true);
    expect(filter.mayHave(root.subarray(0, 8))).toBe(true);
  });

  it('refuses a prefix shorter than 8 bytes and a capacity that is not a positive integer', () => {
    const filter = new RootFilter(100);
    expect(() => filter.add(new Uint8Array(7))).toThrow(/needs 8 bytes, got 7/);
    expect(() => filter.mayHave(new Uint8Array(0))).toThrow(/needs 8 bytes, got 0/);
    expect(() => new RootFilter(0)).toThrow(/capacity 0/);
    expect(() => new RootFilter(1.5)).toThrow(/capacity 1.5/);
  });
});

/** A metadata-only block with a new random content root (the `dag` bench's blocks). */
const spec = (i: number): BlockSpec => metadataBlock(i, randomBytes(32));

function writerOf(db: Db, seed: number): BlockWriter {
  return new BlockWriter(db, { random: seeded(seed) });
}

describe('block writer with a root filter', () => {
  // More blocks than one fill step, so a reopened writer fills its filter over several probes.
  const stored = 3 * FILTER_STEP + 100;
  const db = openDb(join(tempDir(), 'a.db'));
  const first = writerOf(db, 1);
  const early: BlockSpec[] = [];
  db.transaction(() => {
    first.writeGenesis({ archiveId: 'x' });
    for (let i = 1; i <= stored; i++) {
      const s = spec(i);
      if (i % 997 === 1) early.push(s);
      first.append(s, true);
    }
  })();
  const append = (w: BlockWriter, s: BlockSpec) => db.transaction(() => w.append(s))();

  it('is made only after FILTER_AFTER_PROBES probes, then filled a step per probe', () => {
    const w = writerOf(db, 2);
    for (let i = 0; i < FILTER_AFTER_PROBES; i++) append(w, spec(stored + 1 + i));
    expect(w.rootFilter).toBe('off');
    // While filling, an identical object of a block not yet read into the filter is still found.
    expect(append(w, early.at(-1)!).reused).toBe(true);
    expect(w.rootFilter).toBe('filling');
    const steps = Math.ceil((stored + 1 + FILTER_AFTER_PROBES) / FILTER_STEP);
    for (let i = 1; i < steps; i++) append(w, spec(-i));
    expect(w.rootFilter).toBe('ready');
    // Blocks stored before the writer was made, by this writer before and after its filter: all found.
    for (const s of early) expect(append(w, { ...s }).reused).toBe(true);
    const later = spec(-101);
    expect(append(w, later).reused).toBe(false);
    expect(append(w, { ...later }).reused).toBe(true);
    // Same content, other metadata: the filter says maybe, the index finds the root, the meta differs.
    expect(append(w, { ...early[0]!, meta: { n: 'other' } }).reused).toBe(false);
  });

  it('reads the roots it fills from by seq range, from the table (EXPLAIN QUERY PLAN)', () => {
    const plan = db
      .prepare(`EXPLAIN QUERY PLAN ${ROOTS_IN_RANGE}`)
      .all(0, FILTER_STEP)
      .map((r) => (r as { detail: string }).detail);
    expect(plan).toEqual(['SEARCH blocks USING INTEGER PRIMARY KEY (rowid>? AND rowid<?)']);
  });

  it('finds nothing of a rolled-back block, though the filter still holds its root', () => {
    const w = writerOf(db, 3);
    for (let i = 0; i < FILTER_AFTER_PROBES + 10; i++) append(w, spec(-1000 - i));
    expect(w.rootFilter).toBe('ready');
    const gone = spec(-5000);
    expect(() =>
      db.transaction(() => {
        w.append(gone);
        throw new Error('roll back');
      })(),
    ).toThrow('roll back');
    w.reload();
    const again = append(w, { ...gone });
    expect(again.reused).toBe(false);
    expect(append(w, { ...gone }).reused).toBe(true);
  });
});
