import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { openArchive } from '../../helpers/archive.js';
import { openDb } from '../../../main/db/database.js';
import { BlockIndex } from '../../../main/dag/block-index.js';
import { BlockWriter } from '../../../main/dag/block-writer.js';
import {
  COMPACT_TAG,
  decodeRow,
  encodeCompact,
  compactMeta,
  storedCompactMeta,
  storedMeta,
  type BlockRow,
} from '../../../main/dag/stored-header.js';
import { encodeHeader, hashHeader, type BlockHeader } from '../../../shared/block-header.js';
import { prose, writeFile } from '../../helpers/files.js';
import { seeded, tempDir } from '../../helpers/tmp.js';

// V8's own test of hidden classes (see test/main/store/hidden-classes.spec.ts).
setFlagsFromString('--allow-natives-syntax');
const sameMap = new Function('a', 'b', 'return %HaveSameMap(a, b)') as (a: object, b: object) => boolean;
const isSmi = new Function('n', 'return %IsSmi(n)') as (n: number) => boolean;

describe('compact stored headers', () => {
  const db = openDb(join(tempDir(), 'a.db'));
  let t = 1_700_000_000_000;
  const writer = new BlockWriter(db, { random: seeded(3), now: () => (t += 7) });
  db.transaction(() => {
    writer.writeGenesis({ archiveId: 'x' });
    for (let i = 1; i <= 500; i++)
      writer.append({
        kind: i % 7 === 0 ? 'snapshot' : 'file',
        contentRoot: randomBytes(32),
        size: i * 1000,
        storedSize: i * 300,
        chunkCount: i,
        codec: 'zstd-3',
        meta: { name: `naïve ${i} — ☃.txt`, mode: '0644', mtime: String(t), ünïcode: 'x'.repeat(i % 20) },
      });
  })();
  const rows = db
    .prepare<[], BlockRow>(
      'SELECT seq, hash, kind, depth, ts, size, stored_size, content_root, header FROM blocks ORDER BY seq',
    )
    .all();
  const hashBySeq = Object.assign((seqs: readonly number[]): (Buffer | undefined)[] => seqs.map((s) => rows[s]?.hash), {
    remember: () => {},
  });

  it('keeps a block in a fraction of its canonical size and rebuilds the exact header its hash covers', () => {
    const index = new BlockIndex(db);
    expect(rows[0]!.header[0]).not.toBe(COMPACT_TAG); // genesis stays canonical
    let compact = 0;
    let canonical = 0;
    for (const row of rows.slice(1)) {
      expect(row.header[0]).toBe(COMPACT_TAG);
      const h = decodeRow(row, hashBySeq);
      expect(Buffer.from(hashHeader(h)).equals(row.hash)).toBe(true);
      expect(index.bySeq(row.seq)!.header).toEqual(h);
      compact += row.header.length;
      canonical += encodeHeader(h).length;
    }
    expect(compact).toBeLessThan(canonical * 0.45);
  });

  it('reads the compact metadata out of both stored forms, whatever the parents, chunk count and codec (the identity key)', () => {
    const cases: { chunkCount: number; codec: string; meta: Record<string, string> }[] = [
      ...rows.slice(1, 40).map((r) => decodeRow(r, hashBySeq)),
      // No metadata, and short values and keys.
      { chunkCount: 0, codec: 'none', meta: {} },
      { chunkCount: 3, codec: 'raw', meta: { a: '' } },
      { chunkCount: 1, codec: 'zstd-3', meta: { n: 'é' } },
    ];
    for (const c of cases) {
      const h: BlockHeader = { ...(decodeRow(rows[1]!, hashBySeq) as BlockHeader), ...c };
      const seqs = h.parents.map((_, i) => i + 1);
      expect(storedCompactMeta(encodeCompact(h, seqs))).toEqual(compactMeta(c.meta));
      expect(storedCompactMeta(Buffer.from(encodeHeader(h)))).toEqual(compactMeta(c.meta));
    }
  });

  it('decodes into headers of the hidden class written headers have, chunk counts of any size', () => {
    // Written headers hold chunkCount as a small integer; a decoded one holding it as a heap number
    // moved every header to another class, and the compiled code of whatever makes or reads them
    // was thrown away mid-store.
    const written = writer.append({
      kind: 'file',
      contentRoot: randomBytes(32),
      size: 1,
      storedSize: 1,
      chunkCount: 3,
      codec: 'zstd-3',
      meta: { name: 'a' },
    }).header;
    const row = (seq: number): BlockRow =>
      db
        .prepare<[number], BlockRow>(
          'SELECT seq, hash, kind, depth, ts, size, stored_size, content_root, header FROM blocks WHERE seq = ?',
        )
        .get(seq)!;
    const decoded = rows.slice(1, 50).map((r) => decodeRow(r, hashBySeq));
    for (const h of decoded) {
      expect(isSmi(h.chunkCount)).toBe(true);
      expect(sameMap(h, written)).toBe(true);
    }
    expect(decoded.map((h) => h.chunkCount)).toEqual(rows.slice(1, 50).map((r) => r.seq));
    // Six bytes of count: above 2^32 the high part counts too.
    const huge = 2 ** 40 + 5;
    const big = writer.append({ ...written, kind: 'file', contentRoot: randomBytes(32), chunkCount: huge });
    const parents = Object.assign((seqs: readonly number[]) => seqs.map((q) => row(q).hash), { remember: () => {} });
    expect(decodeRow(row(big.seq), parents).chunkCount).toBe(huge);
  });

  it("reads a stored block's metadata without looking up its parents", () => {
    const noParents = Object.assign((seqs: readonly number[]) => seqs.map(() => undefined), { remember: () => {} });
    for (const row of rows.slice(1, 60)) expect(storedMeta(row, noParents)).toEqual(decodeRow(row, hashBySeq).meta);
    // Without parents a whole header cannot be rebuilt; the metadata alone can.
    expect(() => decodeRow(rows[5]!, noParents)).toThrow(/does not exist/);
    expect(storedMeta(rows[0]!, noParents)).toEqual({ archiveId: 'x' }); // genesis: canonical bytes
    const cut = { ...rows[9]!, header: rows[9]!.header.subarray(0, rows[9]!.header.length - 3) };
    expect(() => storedMeta(cut, noParents)).toThrow(/truncated|does not decode/);
  });

  it('refuses stored bytes that do not make a header, naming what is wrong', () => {
    const row = rows[100]!;
    const bad =
      (header: Buffer, patch: Partial<BlockRow> = {}) =>
      () =>
        decodeRow({ ...row, ...patch, header }, hashBySeq);
    expect(bad(row.header.subarray(0, row.header.length - 1))).toThrow(/truncated|out of range|does not decode/);
    expect(bad(Buffer.concat([row.header, Buffer.from([0])]))).toThrow(/1 stray bytes/);
    const missing = Buffer.from(row.header);
    missing.writeUInt32BE(99_999, 2);
    expect(bad(missing)).toThrow(/parent at log position 99999 does not exist/);
    const tooMany = Buffer.from(row.header);
    tooMany[1] = 9;
    expect(bad(tooMany)).toThrow(/9 parents/);
    expect(bad(row.header, { kind: 'genesis' })).toThrow(/genesis has no parents/);
  });

  it('encodes parents by position only when given one position per parent', () => {
    const h: BlockHeader = decodeRow(rows[5]!, hashBySeq);
    expect(() => encodeCompact(h, [1])).toThrow(/one seq per parent/);
  });

  it('the integrity check rebuilds every header: a changed column or parent position is a hash mismatch', async () => {
    const src = tempDir();
    for (let i = 0; i < 20; i++) writeFile(src, `f${i}.txt`, prose(2_000 + i, i));
    const a = await openArchive();
    await a.store([src]);
    expect(await a.check({ quick: true })).toMatchObject({ ok: true });
    a.ctx.db.prepare('UPDATE blocks SET size = size + 1 WHERE seq = 5').run();
    const sizeReport = await a.check({ quick: true });
    expect(sizeReport.ok).toBe(false);
    expect(sizeReport.problems).toContainEqual(
      expect.objectContaining({ what: 'block', detail: 'hash does not match its header' }),
    );
    a.ctx.db.prepare('UPDATE blocks SET size = size - 1 WHERE seq = 5').run();
    expect(await a.check({ quick: true })).toMatchObject({ ok: true });
    const row = a.ctx.db
      .prepare<[], { hash: Buffer; header: Buffer }>('SELECT hash, header FROM blocks WHERE seq = 9')
      .get()!;
    const moved = Buffer.from(row.header);
    moved.writeUInt32BE(moved.readUInt32BE(2) === 1 ? 2 : 1, 2);
    a.ctx.db.prepare('UPDATE blocks SET header = ? WHERE seq = 9').run(moved);
    // Another parent: the rebuilt header no longer hashes to the block's hash (or, if the parents
    // are now out of order, it does not even decode). Either way the block is named.
    const moves = (await a.check({ quick: true })).problems.filter((p) => p.id === row.hash.toString('hex'));
    expect(moves.map((p) => p.detail)).toContainEqual(
      expect.stringMatching(/^(hash does not match its header|header does not decode: parents must be sorted)/),
    );
  });

  it('the integrity check names blocks that share a hash (no UNIQUE index holds them apart since schema 10)', async () => {
    const src = tempDir();
    for (let i = 0; i < 6; i++) writeFile(src, `f${i}.txt`, prose(1_000 + i, i));
    const a = await openArchive();
    await a.store([src]);
    expect(await a.check({ quick: true })).toMatchObject({ ok: true });
    const [x, y] = a.ctx.db
      .prepare<[], Buffer>('SELECT hash FROM blocks WHERE seq IN (3, 4) ORDER BY seq')
      .pluck()
      .all();
    a.ctx.db.prepare('UPDATE blocks SET hash = ? WHERE seq = 4').run(x);
    const twins = (await a.check({ quick: true })).problems.filter((p) => p.detail === '2 blocks share this hash');
    expect(twins).toEqual([expect.objectContaining({ what: 'block', id: x!.toString('hex') })]);
    a.ctx.db.prepare('UPDATE blocks SET hash = ? WHERE seq = 4').run(y);
    expect(await a.check({ quick: true })).toMatchObject({ ok: true });
  });
});
