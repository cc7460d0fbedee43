import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDb } from '../../../main/db/database.js';
import { migrations } from '../../../main/db/migrations/index.js';
import * as m013 from '../../../main/db/migrations/013-chunk-id-prefix.js';
import { CHUNK_BY_ID } from '../../../main/store/types.js';
import { openArchive, readAll } from '../../helpers/archive.js';
import { prose, writeFile } from '../../helpers/files.js';
import { tempDir } from '../../helpers/tmp.js';

describe('chunks found by an 8-byte id prefix (schema 13)', () => {
  it('013 rebuilds chunks without the UNIQUE id index: every row and row id kept, lookups use chunks_id', () => {
    const file = join(tempDir(), 'a.db');
    const before = migrations.filter((m) => m.version <= 12);
    const db = openDb(file, { migrations: before });
    const rows = [
      // A chunk in a pack, one inline (no pack), and one in a group; row ids with a gap.
      { rid: 1, id: Buffer.alloc(32, 1), raw_len: 100, stored_len: 60, codec: 1, pack: 1, offset: 0 },
      { rid: 2, id: Buffer.alloc(32, 2), raw_len: 10, stored_len: 10, codec: 0, pack: null, offset: null },
      { rid: 5, id: Buffer.alloc(32, 5), raw_len: 70, stored_len: 30, codec: 2, pack: 1, offset: 60 },
    ].map((r, i) => ({
      ...r,
      frame_len: i === 2 ? 90 : null,
      frame_raw: i === 2 ? 200 : null,
      frame_at: i === 2 ? 130 : null,
    }));
    const insert = db.prepare(
      'INSERT INTO chunks (rid, id, raw_len, stored_len, codec, pack, offset, frame_len, frame_raw, frame_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    for (const r of rows) insert.run(...Object.values(r));
    db.close();

    const migrated = openDb(file, { migrations: [...before, m013] });
    expect(migrated.pragma('user_version', { simple: true })).toBe(13);
    expect(migrated.prepare('SELECT * FROM chunks ORDER BY rid').all()).toEqual(rows);
    const indexes = migrated
      .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'chunks' ORDER BY name")
      .pluck()
      .all();
    expect(indexes).toEqual(['chunks_id']);
    const id = rows[2]!.id;
    const plan = (
      migrated.prepare(`EXPLAIN QUERY PLAN SELECT rid FROM chunks WHERE ${CHUNK_BY_ID}`).all(id, id) as {
        detail: string;
      }[]
    ).map((r) => r.detail);
    expect(plan.join('\n')).toMatch(/SEARCH chunks USING INDEX chunks_id/);
    const find = migrated.prepare<[Buffer, Buffer], number>(`SELECT rid FROM chunks WHERE ${CHUNK_BY_ID}`).pluck();
    expect(find.get(id, id)).toBe(5);
    // Same first 8 bytes, another id: not found (the whole id is compared).
    const near = Buffer.from(id);
    near[31] ^= 1;
    expect(find.get(near, near)).toBeUndefined();
    migrated.close();
  });

  it('an archive stores, dedups and reads back through it, and the integrity check names chunk rows sharing an id', async () => {
    const src = tempDir();
    for (let i = 0; i < 6; i++) writeFile(src, `f${i}.txt`, prose(3_000 + i, i));
    writeFile(src, 'copy.txt', prose(3_000, 0)); // the same bytes as f0.txt: no new chunk
    const a = await openArchive();
    const { results } = await a.store([src]);
    const chunkCount = a.ctx.db.prepare('SELECT count(*) FROM chunks').pluck().get() as number;
    expect(chunkCount).toBe(6 + 1); // six files' chunks and the snapshot's; the copy adds none
    const byPath = new Map(results.map((r) => [r.path, r.hash]));
    expect((await readAll(a, byPath.get(join(src, 'copy.txt'))!)).equals(prose(3_000, 0))).toBe(true);
    expect(await a.check({ quick: true })).toMatchObject({ ok: true });

    const [x, y] = a.ctx.db.prepare<[], Buffer>('SELECT id FROM chunks WHERE rid IN (2, 3) ORDER BY rid').pluck().all();
    a.ctx.db.prepare('UPDATE chunks SET id = ? WHERE rid = 3').run(x);
    const twins = (await a.check({ quick: true })).problems.filter((p) => p.detail === '2 chunk rows share this id');
    expect(twins).toEqual([expect.objectContaining({ what: 'chunk', id: x!.toString('hex') })]);
    a.ctx.db.prepare('UPDATE chunks SET id = ? WHERE rid = 3').run(y);
    expect(await a.check({ quick: true })).toMatchObject({ ok: true });
  });
});
