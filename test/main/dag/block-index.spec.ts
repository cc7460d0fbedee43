import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDb } from '../../../main/db/database.js';
import { BlockIndex } from '../../../main/dag/block-index.js';
import { BlockWriter, type BlockSpec } from '../../../main/dag/block-writer.js';
import { BLOCK_COLUMNS, BY_HASH } from '../../../main/dag/stored-header.js';
import { encodeHeader, hashHeader } from '../../../shared/block-header.js';
import { seeded, tempDir } from '../../helpers/tmp.js';

function spec(i: number): BlockSpec {
  return {
    kind: 'file',
    contentRoot: randomBytes(32),
    size: i,
    storedSize: i,
    chunkCount: 0,
    codec: 'zstd-3',
    meta: { name: `f${i}` },
  };
}

function build(n: number) {
  const db = openDb(join(tempDir(), 'a.db'));
  let t = 1_700_000_000_000;
  const writer = new BlockWriter(db, { random: seeded(7), now: () => (t += 10) });
  db.transaction(() => {
    writer.writeGenesis({ archiveId: 'x' });
    for (let i = 1; i <= n; i++) writer.append(spec(i));
  })();
  return { db, writer, index: new BlockIndex(db) };
}

describe('block writer and index', () => {
  const { db, writer, index } = build(3000);

  it('hashes each block over its canonical header and follows the depth rule', () => {
    for (const seq of [1, 2, 50, 2999, 3000]) {
      const b = index.bySeq(seq)!;
      expect(Buffer.from(hashHeader(b.header)).equals(b.hash)).toBe(true);
      const ps = index.parents(seq);
      expect(ps.map((p) => p.hash.toString('hex')).sort()).toEqual(
        b.header.parents.map((p) => Buffer.from(p).toString('hex')),
      );
      expect(b.header.depth).toBe(1 + Math.max(...ps.map((p) => p.header.depth)));
    }
  });

  it('returns an identical object’s existing block instead of a new one', () => {
    const s = spec(99999);
    const a = db.transaction(() => writer.append(s))();
    const b = db.transaction(() => writer.append({ ...s }))();
    expect(b.reused).toBe(true);
    expect(b.hash.equals(a.hash)).toBe(true);
    const c = db.transaction(() => writer.append({ ...s, meta: { name: 'other' } }))();
    expect(c.reused).toBe(false);
  });

  it('answers depth and time ranges, children, ancestors and descendants', () => {
    const byDepth = index.byDepth(10, 20);
    expect(byDepth.every((b) => b.header.depth >= 10 && b.header.depth <= 20)).toBe(true);
    expect(byDepth.length).toBeGreaterThan(0);
    const mid = index.bySeq(1500)!;
    const byTime = index.byTime(mid.header.timestamp - 25, mid.header.timestamp + 25);
    expect(byTime.map((b) => b.seq)).toContain(1500);
    // Children and descendants as the headers say, found by reading every block.
    const all = index.range(0, index.size() - 1);
    const hex = (h: Uint8Array) => Buffer.from(h).toString('hex');
    const childrenOf = (seq: number) =>
      all.filter((b) => b.header.parents.some((p) => hex(p) === hex(all[seq]!.hash))).map((b) => b.seq);
    for (const seq of [0, 1500, 2000, index.size() - 2, index.size() - 1])
      expect(index.children(seq).map((b) => b.seq)).toEqual(childrenOf(seq));
    expect(index.children(1500).length).toBeGreaterThan(1); // the next block and others
    const anc = index.ancestors(100, 10_000);
    expect(anc.map((b) => b.seq)).toContain(0);
    expect(anc.every((b) => b.seq < 100)).toBe(true);
    const reach = new Set<number>();
    for (let todo = childrenOf(2990); todo.length > 0;) {
      const s = todo.pop()!;
      if (!reach.has(s)) todo.push(...childrenOf(s));
      reach.add(s);
    }
    expect(index.descendants(2990, 10_000).map((b) => b.seq)).toEqual([...reach].sort((a, b) => a - b));
  });

  it('counts the implied child when it reloads its window: the one tip is the newest block', () => {
    const tips = (w: BlockWriter) => w.selector.tips().map((b) => b.seq);
    expect(tips(writer)).toEqual([index.size() - 1]);
    const reopened = new BlockWriter(db, { random: seeded(8) });
    expect(tips(reopened)).toEqual([index.size() - 1]);
  });

  it('stores no edge from the block before (implied), and every other edge', () => {
    const rows = db.prepare('SELECT parent, child FROM edges').all() as { parent: number; child: number }[];
    expect(rows.some((r) => r.child === r.parent + 1)).toBe(false);
    const named = index
      .range(1, index.size() - 1)
      .reduce((n, b) => n + b.header.parents.length - 1 /* the block before */, 0);
    expect(rows).toHaveLength(named);
  });

  it('finds a path to genesis much shorter than the depth', () => {
    const path = index.pathToGenesis(3000);
    expect(path.at(-1)!.header.kind).toBe('genesis');
    expect(path.length).toBeLessThan(index.bySeq(3000)!.header.depth / 4);
    let child = index.bySeq(3000)!;
    for (const p of path) {
      expect(child.header.parents.some((h) => Buffer.from(h).equals(p.hash))).toBe(true);
      child = p;
    }
  });

  it('uses indexes for its lookups (EXPLAIN QUERY PLAN)', () => {
    const plan = (sql: string, ...args: unknown[]) =>
      (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...args) as { detail: string }[]).map((r) => r.detail).join(' | ');
    const hash = randomBytes(32);
    expect(plan(`SELECT seq FROM blocks WHERE ${BY_HASH}`, hash, hash)).toMatch(/USING INDEX blocks_hash/);
    expect(plan('SELECT seq, header FROM blocks WHERE seq BETWEEN ? AND ?', 1, 2)).toMatch(
      /INTEGER PRIMARY KEY \(rowid>\? AND rowid<\?\)/,
    );
    expect(plan('SELECT depth FROM blocks WHERE seq = ?', 1)).toMatch(/INTEGER PRIMARY KEY \(rowid=\?\)/);
    expect(plan('SELECT child FROM edges WHERE parent = ?', 1)).toMatch(/USING PRIMARY KEY \(parent=\?\)/);
    // Identical objects are found through the identity file (identity-index.spec.ts); the writer
    // then reads each candidate's row by seq.
    expect(plan(`SELECT ${BLOCK_COLUMNS} FROM blocks WHERE seq = ?`, 1)).toMatch(/INTEGER PRIMARY KEY \(rowid=\?\)/);
  });

  it('reloads its window after reopening and keeps following the rule', () => {
    const again = new BlockWriter(db, { random: seeded(9) });
    const w = db.transaction(() => again.append(spec(5000)))();
    const newestBefore = index.bySeq(w.seq - 1)!;
    expect(w.header.parents.some((p) => Buffer.from(p).equals(newestBefore.hash))).toBe(true);
    expect(w.header.parents.length).toBeGreaterThanOrEqual(2);
  });

  it('finds an identical object among many copies of its content, whatever the key order, canonical rows too', () => {
    const d = openDb(join(tempDir(), 'b.db'));
    const w = new BlockWriter(d, { random: seeded(5) });
    const root = randomBytes(32);
    const copy = (
      mtime: number,
      meta: Record<string, string> = { mode: '0644', mtime: String(mtime), name: 'LICENSE' },
    ) =>
      d.transaction(() =>
        w.append({ kind: 'file', contentRoot: root, size: 10, storedSize: 5, chunkCount: 1, codec: 'zstd-3', meta }),
      )();
    d.transaction(() => w.writeGenesis({ archiveId: 'y' }))();
    // Sixty copies of one content: same name, another mtime each, so sixty blocks.
    const copies = Array.from({ length: 60 }, (_, i) => copy(1_000 + i));
    expect(new Set(copies.map((c) => c.seq)).size).toBe(60);
    expect(copies.every((c) => !c.reused)).toBe(true);
    // The same object again, its metadata keys in another order: the block of copy 17.
    const again = copy(0, { name: 'LICENSE', mtime: '1017', mode: '0644' });
    expect(again).toMatchObject({ reused: true, seq: copies[17]!.seq });
    // One value differs (the mode): a block of its own.
    expect(copy(0, { mode: '0600', mtime: '1017', name: 'LICENSE' }).reused).toBe(false);
    // A row kept in the canonical encoding (as blocks written before schema 6 are) is still found.
    const old = copies[42]!;
    d.prepare('UPDATE blocks SET header = ? WHERE seq = ?').run(Buffer.from(encodeHeader(old.header)), old.seq);
    expect(copy(1_042)).toMatchObject({ reused: true, seq: old.seq });
    d.close();
  });
});
