import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  existsSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  statSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Archive } from '../../../main/archive/archive.js';
import { keyPath } from '../../../main/archive/keys.js';
import { storeBytes } from '../../../main/archive/store-ops.js';
import { Committer } from '../../../main/archive/committer.js';
import { createIngestPool } from '../../../main/store/index.js';
import { verifyProof } from '../../../shared/verify.js';
import { BIN } from '../../helpers/cli.js';
import { writeFile } from '../../helpers/files.js';
import { tempDir } from '../../helpers/tmp.js';
import { openArchive } from '../../helpers/archive.js';

/** Stores a hand-made snapshot manifest, as a hostile or damaged archive could contain. */
async function storeManifest(a: Archive, manifest: object): Promise<string> {
  const pool = createIngestPool({ params: a.ctx.chunker, zstdLevel: 3, workers: 1 });
  try {
    const w = await storeBytes(
      { ctx: a.ctx, pool, committer: new Committer(a.ctx) },
      (async function* () {
        yield Buffer.from(JSON.stringify(manifest));
      })(),
      'snapshot',
      { name: 'evil' },
    );
    return w.hash.toString('hex');
  } finally {
    await pool.close();
  }
}

describe('archive edge cases', () => {
  it('keeps the archive key owner-only and signs with the key named in genesis', async () => {
    const a = await openArchive();
    expect(statSync(keyPath(a.ctx.dir)).mode & 0o777).toBe(0o600);
    expect(statSync(join(a.ctx.dir, 'keys')).mode & 0o777).toBe(0o700);
    const src = tempDir();
    const { results } = await a.store([writeFile(src, 'a.txt', 'a')]);
    expect(verifyProof(a.proof(results[0]!.hash)).valid).toBe(true);
  });

  it('refuses a snapshot whose names would escape the target, writing nothing', async () => {
    const a = await openArchive();
    const src = tempDir();
    const { results } = await a.store([writeFile(src, 'ok.txt', 'fine')]);
    const fileHash = results[0]!.hash;
    for (const path of ['../escaped.txt', '/etc/escaped', 'a/../../escaped', 'a\\..\\b']) {
      const snap = await storeManifest(a, {
        format: 'pakit-snapshot',
        version: 1,
        entries: [
          { path: 'fine.txt', type: 'file', mode: 0o644, mtime: 0, size: 4, hash: fileHash },
          { path, type: 'file', mode: 0o644, mtime: 0, size: 4, hash: fileHash },
        ],
      });
      const target = join(tempDir(), 'restore');
      await expect(a.restore(snap, target)).rejects.toMatchObject({
        name: expect.stringMatching(/UnsafePathError|SnapshotFormatError/),
      });
      expect(existsSync(join(target, 'fine.txt'))).toBe(false);
      expect(existsSync(join(target, '..', 'escaped.txt'))).toBe(false);
    }
  });

  it('refuses to write through a symlink the target already holds', async () => {
    const a = await openArchive();
    const src = tempDir();
    const { results } = await a.store([writeFile(src, 'ok.txt', 'fine')]);
    const snap = await storeManifest(a, {
      format: 'pakit-snapshot',
      version: 1,
      entries: [{ path: 'sub/f.txt', type: 'file', mode: 0o644, mtime: 0, size: 4, hash: results[0]!.hash }],
    });
    const target = tempDir();
    const outside = tempDir();
    execFileSync('ln', ['-s', outside, join(target, 'sub')]);
    await expect(a.restore(snap, target)).rejects.toMatchObject({ name: 'UnsafePathError' });
    expect(readdirSync(outside)).toEqual([]);
  });

  it('stores a file larger than 4 GiB (sparse) with its exact size', async () => {
    const src = tempDir();
    const file = join(src, 'huge.img');
    const fd = openSync(file, 'w');
    ftruncateSync(fd, 2 ** 32 + 5);
    writeSync(fd, Buffer.from('tail!'), 0, 5, 2 ** 32);
    closeSync(fd);
    const a = await openArchive();
    const { results } = await a.store([file]);
    const b = a.block(results[0]!.hash);
    expect(b.header.size).toBe(2 ** 32 + 5);
    // Zeros dedup to a handful of distinct chunks.
    expect(a.stats().chunks).toBeLessThan(10);
    let total = 0;
    let tail = Buffer.alloc(0);
    for await (const part of a.read(results[0]!.hash)) {
      total += part.length;
      tail = Buffer.concat([tail, part]).subarray(-5);
    }
    expect(total).toBe(2 ** 32 + 5);
    expect(tail.toString()).toBe('tail!');
    expect(verifyProof(a.proof(results[0]!.hash)).valid).toBe(true);
  }, 180_000);

  it('reports an unreadable file and stores the rest', () => {
    const root = tempDir();
    const data = join(root, 'data');
    const src = join(root, 'src');
    mkdirSync(src);
    writeFile(src, 'readable.txt', 'ok');
    writeFile(src, 'secret.txt', 'no');
    chmodSync(join(src, 'secret.txt'), 0o000);
    // Root reads every file through CAP_DAC_OVERRIDE; drop that capability (still uid 0, so the
    // checkout stays readable wherever it is) to get a real EACCES.
    const unprivileged =
      process.getuid?.() === 0 ? ['setpriv', '--bounding-set=-dac_override,-dac_read_search', '--'] : [];
    const cmd = [...unprivileged, process.execPath, BIN, '--data', data, 'store', src];
    let out = '';
    let err = '';
    let code = 0;
    try {
      out = execFileSync(cmd[0]!, cmd.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      const x = e as { status: number; stdout: string; stderr: string };
      code = x.status;
      out = x.stdout;
      err = x.stderr;
    }
    expect(code).toBe(2);
    expect(err).toContain('secret.txt');
    expect(err).toContain('EACCES');
    const lines = out.trim().split('\n');
    expect(lines.some((l) => l.endsWith('readable.txt'))).toBe(true);
    expect(lines.at(-1)!.endsWith(`${src}/`)).toBe(true); // the snapshot of what could be read
  });
});
