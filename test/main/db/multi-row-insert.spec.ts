import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MULTI_ROW_INSERT, openDb } from '../../../main/db/database.js';
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
