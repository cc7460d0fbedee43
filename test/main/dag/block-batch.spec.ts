import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDb } from '../../../main/db/database.js';
import { BlockIndex } from '../../../main/dag/block-index.js';
import { BlockWriter, PENDING_EDGES, type BlockSpec } from '../../../main/dag/block-writer.js';
import { hashHeader } from '../../../shared/block-header.js';
import { MerkleLog } from '../../../main/log/merkle-log.js';
import { spec as metadataBlock } from '../../../bench/dag-million.js';
import { seeded, tempDir } from '../../helpers/tmp.js';

const spec = (i: number): BlockSpec => metadataBlock(i, randomBytes(32));

function fresh() {
  const db = openDb(join(tempDir(), 'a.db'));
  const writer = new BlockWriter(db, { random: seeded(11) });
  db.transaction(() => writer.writeGenesis({ archiveId: 'x' }))();
  return { db, writer, index: new BlockIndex(db) };
}

describe('block writer batches', () => {
  it('writes every block and edge of a batch, held-back edges past PENDING_EDGES and the rest at its end', () => {
    const { db, writer, index } = fresh();
    // About two stored edges a block: several flushes on the way, and a part one at the end.
    const n = PENDING_EDGES + 7;
    const written = db.transaction(() =>
      writer.batch(() => Array.from({ length: n }, (_, i) => writer.append(spec(i)))),
    )();
    expect(db.prepare('SELECT count(*) FROM blocks').pluck().get()).toBe(n + 1);
    for (const w of written) {
      const b = index.bySeq(w.seq)!;
      expect(b.hash.equals(w.hash)).toBe(true);
      expect(Buffer.from(hashHeader(b.header)).equals(b.hash)).toBe(true);
      // Parents from the header; the stored edges give the same blocks back as children.
      for (const p of index.parents(w.seq)) expect(index.children(p.seq).map((c) => c.seq)).toContain(w.seq);
    }
    const stored = db.prepare('SELECT count(*) FROM edges').pluck().get() as number;
    const expected = written.reduce((k, w) => k + w.header.parents.length - 1, 0);
    expect(stored).toBe(expected);
    // The log's node rows, held back the same way, are all written, and a fresh reader agrees on the root.
    expect(db.prepare('SELECT count(*) FROM log_nodes').pluck().get()).toBe(MerkleLog.nodeCount(n + 1));
    expect(Buffer.from(new MerkleLog(db).root()).equals(Buffer.from(writer.log.root()))).toBe(true);
  });

  it('finds a copy of a block appended earlier in the same batch', () => {
    const { db, writer } = fresh();
    const s = spec(1);
    const [a, b] = db.transaction(() => writer.batch(() => [writer.append(s), writer.append({ ...s })]))();
    expect(a!.reused).toBe(false);
    expect(b!.reused).toBe(true);
    expect(b!.seq).toBe(a!.seq);
    expect(db.prepare('SELECT count(*) FROM blocks').pluck().get()).toBe(2);
  });

  it('stores the root as it was when appended, though the caller reuses its buffer', () => {
    const { db, writer, index } = fresh();
    const scratch = Buffer.alloc(32);
    const roots: Buffer[] = [];
    const written = db.transaction(() =>
      writer.batch(() =>
        Array.from({ length: 5 }, (_, i) => {
          randomBytes(32).copy(scratch);
          roots.push(Buffer.from(scratch));
          return writer.append({ ...spec(i), contentRoot: scratch }, true);
        }),
      ),
    )();
    written.forEach((w, i) => {
      const b = index.bySeq(w.seq)!;
      expect(Buffer.from(b.header.contentRoot).equals(roots[i]!)).toBe(true);
      expect(Buffer.from(hashHeader(b.header)).equals(w.hash)).toBe(true);
    });
  });

  it('drops what it held back when the batch throws, and goes on from the last commit after reload', () => {
    const { db, writer, index } = fresh();
    db.transaction(() => writer.batch(() => writer.append(spec(1))))();
    expect(() =>
      db.transaction(() =>
        writer.batch(() => {
          // Some edges written (PENDING_EDGES passed), some still held back when it throws.
          for (let i = 0; i < PENDING_EDGES / 2 + 9; i++) writer.append(spec(100 + i));
          throw new Error('a later write failed');
        }),
      )(),
    ).toThrow('a later write failed');
    writer.reload();
    expect(db.prepare('SELECT count(*) FROM blocks').pluck().get()).toBe(2);
    expect(db.prepare('SELECT count(*) FROM edges WHERE child > 1').pluck().get()).toBe(0);
    expect(db.prepare('SELECT count(*) FROM log_nodes').pluck().get()).toBe(MerkleLog.nodeCount(2));
    const next = db.transaction(() => writer.batch(() => writer.append(spec(2))))();
    expect(next.seq).toBe(2);
    expect(index.bySeq(2)!.hash.equals(next.hash)).toBe(true);
    // Nothing of the failed batch came back with the next one.
    expect(db.prepare('SELECT count(*) FROM blocks').pluck().get()).toBe(3);
    expect(db.prepare('SELECT count(*) FROM edges WHERE child NOT IN (SELECT seq FROM blocks)').pluck().get()).toBe(0);
    expect(db.prepare('SELECT count(*) FROM log_nodes').pluck().get()).toBe(MerkleLog.nodeCount(3));
    expect(Buffer.from(new MerkleLog(db).root()).equals(Buffer.from(writer.log.root()))).toBe(true);
  });
});
