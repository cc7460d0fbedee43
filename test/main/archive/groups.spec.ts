import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Codec, ChunkEncoder } from '../../../main/store/index.js';
import { prose, sha256hex, writeFile } from '../../helpers/files.js';
import { tempDir } from '../../helpers/tmp.js';
import { openArchive, readAll } from '../../helpers/archive.js';

describe('archive: small files stored in groups', () => {
  it('compresses small files together, accounts every stored byte, and returns each file intact', async () => {
    const src = tempDir();
    const files = new Map<string, Buffer>();
    for (let i = 0; i < 300; i++) {
      const body = prose(1_000 + ((i * 7919) % 20_000), i);
      files.set(`doc-${i}.txt`, body);
      writeFile(src, `doc-${i}.txt`, body);
    }
    // A large file's last piece is small and goes to a group too; its other chunks stand alone.
    const big = prose(3_000_000, 1234);
    writeFile(src, 'big.txt', big);
    files.set('big.txt', big);

    const a = await openArchive();
    const { results, problems } = await a.store([src]);
    expect(problems).toEqual([]);
    const rows = a.ctx.db
      .prepare<[], { codec: number; n: number }>('SELECT codec, count(*) AS n FROM chunks GROUP BY codec')
      .all();
    const grouped = rows.find((r) => r.codec === Codec.Grouped)?.n ?? 0;
    expect(grouped).toBeGreaterThanOrEqual(300);
    expect(rows.find((r) => r.codec === Codec.Zstd)?.n ?? 0).toBeGreaterThan(0);

    for (const r of results.filter((x) => x.kind === 'file')) {
      const name = r.path.slice(src.length + 1);
      expect(sha256hex(await readAll(a, r.hash))).toBe(sha256hex(files.get(name)!));
    }
    // Stored bytes are measured: the pack files hold exactly what stats counts, and the small
    // files take less than they would compressed one by one.
    const stats = a.stats();
    const packDir = join(a.ctx.dir, 'packs');
    const packBytes = readdirSync(packDir).reduce((n, f) => n + statSync(join(packDir, f)).size, 0);
    expect(stats.storedBytes).toBe(packBytes);
    const enc = new ChunkEncoder(3);
    const alone = [...files].filter(([n]) => n !== 'big.txt').reduce((n, [, b]) => n + enc.encode(b).data.length, 0);
    const smallStored = results
      .filter((r) => r.kind === 'file' && !r.path.endsWith('big.txt'))
      .reduce((n, r) => n + r.storedSize, 0);
    expect(smallStored).toBeLessThan(alone);
    expect(await a.check()).toMatchObject({ ok: true, problems: [] });

    // Restore reads the groups back (through the group cache) byte for byte.
    const snap = results.at(-1)!;
    const out = tempDir();
    await a.restore(snap.hash, out);
    for (const [name, body] of files) expect(sha256hex(readFileSync(join(out, name)))).toBe(sha256hex(body));
  });
});
