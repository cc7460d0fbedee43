import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { inReadSnapshot, inSnapshot, openDb, type Db } from '../../../main/db/database.js';
import { Archive } from '../../../main/archive/archive.js';
import { spec } from '../../../bench/dag-million.js';
import { tempDir } from '../../helpers/tmp.js';

describe('inSnapshot', () => {
  const open: Db[] = [];
  afterEach(() => {
    for (const db of open.splice(0)) db.close();
  });
  /** A writer and a second connection to the same archive database, as two processes would have. */
  function pair(): { writer: Db; reader: Db } {
    const file = join(tempDir(), 'a.db');
    const writer = openDb(file);
    const reader = openDb(file, { readonly: true });
    open.push(reader, writer);
    return { writer, reader };
  }
  const count = (db: Db): number => db.prepare('SELECT count(*) FROM edges').pluck().get() as number;
  const addEdge = (db: Db, child: number): void => {
    db.prepare('INSERT INTO edges (parent, child) VALUES (0, ?)').run(child);
  };

  it("keeps fn's reads on one committed state while another connection commits", () => {
    const { writer, reader } = pair();
    addEdge(writer, 1);
    const seen = inSnapshot(reader, () => {
      const before = count(reader);
      addEdge(writer, 2);
      return [before, count(reader)];
    });
    expect(seen).toEqual([1, 1]);
    expect(reader.inTransaction).toBe(false);
    // Without a snapshot each statement sees the newest commit.
    const before = count(reader);
    addEdge(writer, 3);
    expect([before, count(reader)]).toEqual([2, 3]);
  });

  it("runs inside the caller's transaction without ending it", () => {
    const { writer } = pair();
    writer.exec('BEGIN');
    addEdge(writer, 1);
    expect(inSnapshot(writer, () => count(writer))).toBe(1);
    expect(writer.inTransaction).toBe(true);
    writer.exec('ROLLBACK');
    expect(count(writer)).toBe(0);
  });

  it('ends the transaction when fn throws, keeping what fn committed before, as without it', () => {
    const { writer, reader } = pair();
    expect(() =>
      inSnapshot(writer, () => {
        writer.transaction(() => addEdge(writer, 1))();
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(writer.inTransaction).toBe(false);
    expect(count(reader)).toBe(1);
  });

  it('refuses an async fn, and leaves no transaction open', () => {
    const { reader } = pair();
    expect(() => inSnapshot(reader, async () => count(reader))).toThrow(/must be synchronous/);
    expect(reader.inTransaction).toBe(false);
  });

  it('says when a connection is in a read snapshot: not in a write transaction of its own', () => {
    const { writer } = pair();
    expect(inReadSnapshot(writer)).toBe(false);
    expect(inSnapshot(writer, () => inReadSnapshot(writer))).toBe(true);
    writer.exec('BEGIN');
    expect(inSnapshot(writer, () => inReadSnapshot(writer))).toBe(false);
    writer.exec('ROLLBACK');
    expect(inReadSnapshot(writer)).toBe(false);
  });

  it('no block is written inside a read snapshot (readers cache the rows they read there)', async () => {
    const archive = await Archive.open({ dir: tempDir() });
    try {
      const before = archive.ctx.index.size();
      expect(() => inSnapshot(archive.ctx.db, () => archive.appendBlocks([spec(1, Buffer.alloc(32, 7))]))).toThrow(
        /never written inside a read snapshot/,
      );
      expect(archive.ctx.index.size()).toBe(before);
    } finally {
      await archive.close();
    }
  });
});
