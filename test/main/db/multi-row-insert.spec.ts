import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { HeldRows, MULTI_ROW_INSERT, openDb } from '../../../main/db/database.js';
import { tempDir } from '../../helpers/tmp.js';

// What the block writer and the Merkle log rely on when they insert several rows with FAIL instead
// of ABORT: a conflict is still an error, and rolling the transaction back still undoes every row.
describe('MULTI_ROW_INSERT', () => {
  it('still refuses a conflicting row, and the rollback of the transaction leaves nothing', () => {
    const db = openDb(join(tempDir(), 'a.db'));
    try {
      db.prepare(`${MULTI_ROW_INSERT} edges (parent, child) VALUES (?, ?), (?, ?)`).run(1, 2, 1, 3);
      const insert = db.prepare(`${MULTI_ROW_INSERT} edges (parent, child) VALUES (?, ?), (?, ?), (?, ?)`);
      const tx = db.transaction(() => {
        db.prepare(`${MULTI_ROW_INSERT} edges (parent, child) VALUES (?, ?)`).run(7, 8);
        // (1, 2) exists: the statement stops at the second row with a constraint error.
        insert.run(5, 6, 1, 2, 9, 9);
      });
      expect(() => tx()).toThrow(/UNIQUE constraint failed: edges/);
      const rows = db.prepare('SELECT parent, child FROM edges ORDER BY parent, child').all();
      expect(rows).toEqual([
        { parent: 1, child: 2 },
        { parent: 1, child: 3 },
      ]);
    } finally {
      db.close();
    }
  });
});

describe('HeldRows', () => {
  it('writes the rows it holds with one statement once the limit is reached, on write(), and never after drop()', () => {
    const file = join(tempDir(), 'a.db');
    openDb(file).close();
    const ran: string[] = [];
    const db = new Database(file, { verbose: (sql) => ran.push(String(sql)) });
    try {
      const held = new HeldRows(db, 'edges (parent, child)', '(?, ?)', 3);
      const edges = () => db.prepare('SELECT parent, child FROM edges ORDER BY parent, child').raw().all();
      ran.length = 0;
      held.hold();
      held.write(); // nothing held: no statement
      held.values.push(1, 2, 1, 3);
      held.added(); // 2 of 3
      expect(ran).toEqual([]);
      held.values.push(2, 3);
      held.added(); // 3 of 3: one statement of three rows
      expect(ran.length).toBe(1);
      expect(ran[0]).toMatch(
        new RegExp(`^${MULTI_ROW_INSERT} edges \\(parent, child\\) VALUES \\([^)]*\\)(, \\([^)]*\\)){2}$`),
      );
      expect(held.values).toEqual([]);
      held.values.push(4, 5, 4, 6, 4, 7, 4, 8);
      held.drop();
      held.values.push(5, 6);
      held.write();
      expect(ran.length).toBe(2);
      expect(edges()).toEqual([
        [1, 2],
        [1, 3],
        [2, 3],
        [5, 6],
      ]);
    } finally {
      db.close();
    }
  });
});
