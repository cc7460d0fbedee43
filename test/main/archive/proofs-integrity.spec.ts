import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildConsistency, buildMultiProof } from '../../../main/archive/proofs.js';
import { verifyAny, verifyProof } from '../../../shared/verify.js';
import { makeTree, writeFile } from '../../helpers/files.js';
import { tempDir } from '../../helpers/tmp.js';
import { forget, openArchive, readAll } from '../../helpers/archive.js';

describe('archive: proofs and integrity', () => {
  async function populated() {
    const src = tempDir();
    makeTree(src);
    const a = await openArchive();
    const { results } = await a.store([src]);
    a.checkpoint();
    return { a, src, results };
  }

  it('proves every object against a signed checkpoint, verifiable offline', async () => {
    const { a, results } = await populated();
    for (const r of results) {
      const v = verifyProof(a.proof(r.hash));
      expect(v.reason).toBeUndefined();
      expect(v.valid).toBe(true);
    }
  });

  it('proves one chunk of an object and a path to genesis', async () => {
    const { a, results } = await populated();
    const big = results.find((r) => r.path.endsWith('scan.bin'))!;
    const n = a.block(big.hash).header.chunkCount;
    expect(n).toBeGreaterThan(1);
    const doc = a.proof(big.hash, { chunk: n - 1, toGenesis: true });
    const v = verifyProof(doc);
    expect(v.valid).toBe(true);
    expect(v.steps.map((s) => s.step)).toEqual(expect.arrayContaining(['chunk', 'ancestry']));
    expect(() => a.proof(big.hash, { chunk: n })).toThrow(RangeError);
  });

  it('builds compressed multi-object proofs and consistency proofs', async () => {
    const { a, results, src } = await populated();
    const multi = buildMultiProof(
      a.ctx,
      results.map((r) => r.hash),
    );
    expect(verifyAny(multi).valid).toBe(true);
    const singleNodes = results.reduce((n, r) => n + a.proof(r.hash).inclusion.length, 0);
    expect(multi.nodes.length).toBeLessThan(singleNodes);
    const first = a.latestCheckpoint()!;
    writeFile(src, 'later.txt', 'more');
    await a.store([join(src, 'later.txt')]);
    const second = a.checkpoint();
    expect(second.size).toBeGreaterThan(first.size);
    expect(verifyAny(buildConsistency(a.ctx, first.size, second.size)).valid).toBe(true);
  });

  it('passes its integrity check, and finds a flipped byte in a pack', async () => {
    const { a, results } = await populated();
    expect(await a.check()).toMatchObject({ ok: true, problems: [] });
    const scan = results.find((r) => r.path.endsWith('scans/scan.bin'))!;
    await a.close();
    forget(a);
    // Flip one byte in the middle of the packs' data.
    const { readdirSync } = await import('node:fs');
    const packDir = join(a.ctx.dir, 'packs');
    const pack = join(packDir, readdirSync(packDir).sort()[0]!);
    const bytes = readFileSync(pack);
    bytes[Math.floor(bytes.length / 2)] ^= 0xff;
    writeFileSync(pack, bytes);
    const b = await openArchive(a.ctx.dir);
    const report = await b.check();
    expect(report.ok).toBe(false);
    expect(report.problems.some((p) => p.what === 'chunk')).toBe(true);
    // Some object now fails to read, naming itself; none returns wrong bytes.
    let failures = 0;
    for (const r of results.filter((x) => x.kind === 'file')) {
      try {
        await readAll(b, r.hash);
      } catch (e) {
        failures++;
        expect((e as Error).name).toBe('ObjectCorruptError');
        expect((e as Error).message).toContain(r.hash);
      }
    }
    expect(failures).toBeGreaterThan(0);
    void scan;
  });

  it('checks the stored edges against the headers, the implied one from the block before included', async () => {
    const { a } = await populated();
    const db = a.ctx.db;
    const edge = db.prepare('SELECT parent, child FROM edges ORDER BY child DESC LIMIT 1').get() as {
      parent: number;
      child: number;
    };
    expect(edge.parent).toBeLessThan(edge.child - 1); // the block before's edge is not stored
    db.prepare('DELETE FROM edges WHERE parent = ? AND child = ?').run(edge.parent, edge.child);
    let report = await a.check({ quick: true });
    expect(report.problems.map((p) => p.detail)).toEqual(
      expect.arrayContaining([`edge from parent ${edge.parent} missing`, expect.stringMatching(/edge rows/)]),
    );
    db.prepare('INSERT INTO edges (parent, child) VALUES (?, ?)').run(edge.parent, edge.child);
    expect(await a.check({ quick: true })).toMatchObject({ ok: true, problems: [] });
    // A stored edge from the block before is one more than the headers call for.
    db.prepare('INSERT INTO edges (parent, child) VALUES (?, ?)').run(edge.child - 1, edge.child);
    report = await a.check({ quick: true });
    expect(report.problems.map((p) => p.detail)).toEqual([expect.stringMatching(/^\d+ edge rows, the headers name/)]);
  });
});
