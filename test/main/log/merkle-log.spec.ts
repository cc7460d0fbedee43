import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDb } from '../../../main/db/database.js';
import { MerkleLog } from '../../../main/log/merkle-log.js';
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

function filledLog(n: number) {
  const db = openDb(join(tempDir(), 'a.db'));
  const log = new MerkleLog(db);
  const items = Array.from({ length: n }, () => randomBytes(32));
  db.transaction(() => items.forEach((h) => log.append(h)))();
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
    db.transaction(() => again.append(more))();
    expect(Buffer.from(again.root()).equals(Buffer.from(merkleRoot([...items, more])))).toBe(true);
  });

  it('recovers its in-memory frontier after a rolled-back append', () => {
    const { db, log, items } = filledLog(5);
    expect(() =>
      db.transaction(() => {
        log.append(randomBytes(32));
        throw new Error('abort');
      })(),
    ).toThrow('abort');
    log.reload();
    expect(log.size).toBe(5);
    const next = randomBytes(32);
    db.transaction(() => log.append(next))();
    expect(Buffer.from(log.root()).equals(Buffer.from(merkleRoot([...items, next])))).toBe(true);
  });

  it('refuses sizes beyond the log', () => {
    const { log } = filledLog(3);
    expect(() => log.root(4)).toThrow(RangeError);
    expect(() => log.inclusionPath(3, 3)).toThrow(RangeError);
  });
});
