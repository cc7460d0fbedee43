import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDb, type Db } from '../../../main/db/database.js';
import { MerkleLog, PENDING_NODES } from '../../../main/log/merkle-log.js';
import {
  consistencyPath,
  inclusionPath,
  leafHash,
  merkleRoot,
  subtreeOfLeafHashes,
  verifyConsistency,
  verifyInclusion,
} from '../../../shared/merkle.js';
import { tempDir } from '../../helpers/tmp.js';

/** The log's leaves are the blocks' hashes: a block row goes in first, then its hash is appended. */
function append(db: Db, log: MerkleLog, hash: Buffer): void {
  db.prepare(
    "INSERT INTO blocks (seq, hash, kind, depth, ts, size, stored_size, content_root, header) VALUES (?, ?, 'file', ?, 0, 0, 0, x'00', x'00')",
  ).run(log.size, hash, log.size);
  log.append(hash);
}

function filledLog(n: number) {
  const db = openDb(join(tempDir(), 'a.db'));
  const log = new MerkleLog(db);
  const items = Array.from({ length: n }, () => randomBytes(32));
  db.transaction(() => items.forEach((h) => append(db, log, h)))();
  return { db, log, items };
}

describe('MerkleLog (persisted RFC 9162 log)', () => {
  it('has the same root as the in-memory tree at every size', () => {
    const { log, items } = filledLog(70);
    for (let k = 0; k <= 70; k++)
      expect(Buffer.from(log.root(k)).toString('hex')).toBe(Buffer.from(merkleRoot(items.slice(0, k))).toString('hex'));
  });

  it('builds the same audit and consistency paths as the reference, and they verify', () => {
    const { log, items } = filledLog(37);
    const leaves = items.map((h) => leafHash(h));
    for (let n = 1; n <= 37; n++) {
      const ref = subtreeOfLeafHashes(leaves.slice(0, n));
      const root = log.root(n);
      for (let m = 0; m < n; m++) {
        const p = log.inclusionPath(m, n);
        expect(p.map((x) => Buffer.from(x).toString('hex'))).toEqual(
          inclusionPath(m, n, ref).map((x) => Buffer.from(x).toString('hex')),
        );
        expect(verifyInclusion(m, n, leaves[m]!, p, root)).toBe(true);
        expect(verifyInclusion(m, n, leaves[(m + 1) % n]!, p, root)).toBe(n === 1);
      }
      for (let m = 1; m <= n; m++) {
        const c = log.consistencyPath(m, n);
        expect(c.map((x) => Buffer.from(x).toString('hex'))).toEqual(
          consistencyPath(m, n, ref).map((x) => Buffer.from(x).toString('hex')),
        );
        expect(verifyConsistency(m, n, log.root(m), root, c)).toBe(true);
      }
    }
  });

  it('stores exactly one node per complete subtree and survives reopening', () => {
    const { db, log, items } = filledLog(1000);
    const count = db.prepare('SELECT count(*) FROM log_nodes').pluck().get();
    expect(count).toBe(MerkleLog.nodeCount(1000));
    const again = new MerkleLog(db);
    expect(again.size).toBe(1000);
    expect(Buffer.from(again.root()).equals(Buffer.from(log.root()))).toBe(true);
    // Appending after a reopen continues the same tree.
    const more = randomBytes(32);
    db.transaction(() => append(db, again, more))();
    expect(Buffer.from(again.root()).equals(Buffer.from(merkleRoot([...items, more])))).toBe(true);
  });

  it('recovers its in-memory frontier and forgets roots it computed after a rolled-back append', () => {
    const { db, log, items } = filledLog(5);
    expect(() =>
      db.transaction(() => {
        append(db, log, randomBytes(32));
        log.root(); // a ragged range's root, remembered for a leaf that rolls back
        throw new Error('abort');
      })(),
    ).toThrow('abort');
    log.reload();
    expect(log.size).toBe(5);
    const next = randomBytes(32);
    db.transaction(() => append(db, log, next))();
    expect(Buffer.from(log.root()).equals(Buffer.from(merkleRoot([...items, next])))).toBe(true);
  });

  it('reads what a cold audit path needs with one statement, its leaf included', () => {
    const { db, items } = filledLog(300);
    const file = db.name;
    db.close();
    // Every statement the connection runs, as it runs it.
    const ran: string[] = [];
    const cold = new Database(file, { verbose: (sql) => ran.push(String(sql)) });
    const log = new MerkleLog(cold);
    const ref = subtreeOfLeafHashes(items.map((h) => leafHash(h)));
    const hex = (p: Uint8Array[]) => p.map((x) => Buffer.from(x).toString('hex'));
    for (const m of [137, 6, 254]) {
      ran.length = 0;
      // Leaf m's sibling is a leaf (read from its block) and the nodes above it are stored ones.
      expect(hex(log.inclusionPath(m, 300))).toEqual(hex(inclusionPath(m, 300, ref)));
      expect(ran).toHaveLength(1);
      expect(ran[0]).toContain('FROM blocks');
    }
    ran.length = 0;
    log.inclusionPath(137, 300);
    expect(ran).toEqual([]); // all kept from the first time
    cold.close();
  });

  it('holds node rows back until flushed, PENDING_NODES to a statement, and writes them before any read', () => {
    const file = join(tempDir(), 'a.db');
    openDb(file).close();
    const ran: string[] = [];
    const db = new Database(file, { verbose: (sql) => ran.push(String(sql)) });
    const log = new MerkleLog(db);
    const items = Array.from({ length: 1000 }, () => randomBytes(32));
    const nodes = () => db.prepare('SELECT count(*) FROM log_nodes').pluck().get() as number;
    const ref = subtreeOfLeafHashes(items.map((h) => leafHash(h)));
    const hex = (p: Uint8Array[]) => p.map((x) => Buffer.from(x).toString('hex'));
    db.transaction(() => {
      log.hold();
      ran.length = 0;
      items.slice(0, 600).forEach((h) => append(db, log, h));
      const inserts = ran.filter((sql) => sql.includes('INTO log_nodes'));
      // 600 leaves complete 594 nodes: written PENDING_NODES (or a few more) at a time, not one statement per append.
      expect(inserts.length).toBeGreaterThan(0);
      expect(inserts.length).toBeLessThanOrEqual(Math.ceil(MerkleLog.nodeCount(600) / PENDING_NODES));
      expect(nodes()).toBeLessThan(MerkleLog.nodeCount(600));
      // A read of stored nodes (a path, a root) writes what is held first, and is right: one
      // statement writes them, one reads the path's nodes.
      ran.length = 0;
      expect(hex(log.inclusionPath(137, 600))).toEqual(hex(inclusionPath(137, 600, ref)));
      expect(ran.map((sql) => sql.slice(0, 6))).toEqual(['INSERT', 'SELECT']);
      expect(nodes()).toBe(MerkleLog.nodeCount(600));
      // A root made of stored nodes alone (no path read first) as well.
      items.slice(600, 800).forEach((h) => append(db, log, h));
      expect(nodes()).toBeLessThan(MerkleLog.nodeCount(800));
      expect(Buffer.from(log.root()).equals(Buffer.from(merkleRoot(items.slice(0, 800))))).toBe(true);
      expect(nodes()).toBe(MerkleLog.nodeCount(800));
      items.slice(800).forEach((h) => append(db, log, h));
      expect(nodes()).toBeLessThan(MerkleLog.nodeCount(1000));
      log.flush();
      expect(nodes()).toBe(MerkleLog.nodeCount(1000));
      // Not holding any more: the next append writes its node at once.
      append(db, log, randomBytes(32));
      expect(nodes()).toBe(MerkleLog.nodeCount(1001));
    })();
    expect(hex(new MerkleLog(db).inclusionPath(999, 1000))).toEqual(hex(inclusionPath(999, 1000, ref)));
    db.close();
  });

  it('drops held node rows with the rolled-back appends that made them', () => {
    const { db, log, items } = filledLog(9);
    expect(() =>
      db.transaction(() => {
        log.hold();
        for (let i = 0; i < 100; i++) append(db, log, randomBytes(32));
        throw new Error('abort');
      })(),
    ).toThrow('abort');
    log.drop();
    log.reload();
    expect(db.prepare('SELECT count(*) FROM log_nodes').pluck().get()).toBe(MerkleLog.nodeCount(9));
    // Not holding any more: the tenth leaf's node (1, 4) is written with it.
    const next = randomBytes(32);
    db.transaction(() => append(db, log, next))();
    expect(MerkleLog.nodeCount(10)).toBe(MerkleLog.nodeCount(9) + 1);
    expect(db.prepare('SELECT count(*) FROM log_nodes').pluck().get()).toBe(MerkleLog.nodeCount(10));
    expect(Buffer.from(log.root()).equals(Buffer.from(merkleRoot([...items, next])))).toBe(true);
  });

  it('names a missing stored node instead of building a path from the wrong ones', () => {
    const { db, items } = filledLog(300);
    // Leaf 137's path reads nodes (1, 69), (2, 35), (3, 16), … in one statement; lose one of them.
    db.prepare('DELETE FROM log_nodes WHERE level = 2 AND idx = 35').run();
    const log = new MerkleLog(db);
    expect(() => log.inclusionPath(137, 300)).toThrow('log node (2, 35) missing: the log is damaged');
    // Paths that do not need it are still right.
    const ref = subtreeOfLeafHashes(items.map((h) => leafHash(h)));
    const hex = (p: Uint8Array[]) => p.map((x) => Buffer.from(x).toString('hex'));
    expect(hex(log.inclusionPath(6, 300))).toEqual(hex(inclusionPath(6, 300, ref)));
  });

  it('refuses sizes beyond the log', () => {
    const { log } = filledLog(3);
    expect(() => log.root(4)).toThrow(RangeError);
    expect(() => log.inclusionPath(3, 3)).toThrow(RangeError);
  });
});
