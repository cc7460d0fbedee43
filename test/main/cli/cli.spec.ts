import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pakit, pakitAsync } from '../../helpers/cli.js';
import { makeTree, prose, sha256hex, writeFile } from '../../helpers/files.js';
import { tempDir } from '../../helpers/tmp.js';

const HASH = /^[0-9a-f]{64}$/;

describe('pakit CLI contract', () => {
  it('prints help and exits 0; bad usage exits 2 with a message', () => {
    const h = pakit(['--help']);
    expect(h.code).toBe(0);
    expect(h.stdout).toContain('pakit store PATH');
    const bad = pakit(['frobnicate']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('unknown command');
    const badOpt = pakit(['--data', tempDir(), 'ls', '--nope']);
    expect(badOpt.code).toBe(2);
    expect(badOpt.stderr).toContain('unknown option --nope');
  });

  it('store prints "<hash>  <path>" per file and "<snapshot>  <dir>/" last; get returns the bytes', () => {
    const data = tempDir();
    const src = tempDir();
    const files = makeTree(src);
    const r = pakit(['--data', data, 'store', src]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines.length).toBe(Object.keys(files).length + 1);
    for (const line of lines) {
      const [hash, path] = [line.slice(0, 64), line.slice(66)];
      expect(hash).toMatch(HASH);
      expect(line.slice(64, 66)).toBe('  ');
      expect(path.startsWith(src)).toBe(true);
    }
    expect(lines.at(-1)!.slice(66)).toBe(`${src}/`);
    for (const line of lines.slice(0, -1)) {
      const rel = line.slice(66 + src.length + 1);
      const got = pakit(['--data', data, 'get', line.slice(0, 64)]);
      expect(got.code).toBe(0);
      expect(sha256hex(got.stdoutBytes)).toBe(sha256hex(files[rel]!));
    }
    // -o writes a file.
    const out = join(tempDir(), 'out.txt');
    const first = lines.find((l) => l.endsWith('deed-001.txt'))!;
    expect(pakit(['--data', data, 'get', first.slice(0, 64), '-o', out]).code).toBe(0);
    expect(readFileSync(out).equals(files['deeds/deed-001.txt']!)).toBe(true);
  });

  it('a reader that stops early (pakit store | head -1) ends nothing: the store completes, exit 0, no error', async () => {
    const data = tempDir();
    const src = tempDir();
    for (let i = 0; i < 1200; i++) writeFile(src, `record-${String(i).padStart(4, '0')}.txt`, prose(200 + i, i));
    const child = pakitAsync(['--data', data, 'store', src]);
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    // Lines come in pieces of up to 64 KiB: close the pipe after the first, with more to come.
    child.stdout!.once('data', () => child.stdout!.destroy());
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const ls = JSON.parse(pakit(['--data', data, 'ls', '--json']).stdout) as { kind: string }[];
    expect(ls.filter((b) => b.kind === 'file')).toHaveLength(1200);
    expect(ls.filter((b) => b.kind === 'snapshot')).toHaveLength(1);
  });

  it('--json output of store, ls and stats is machine-readable', () => {
    const data = tempDir();
    const src = tempDir();
    writeFile(src, 'x.txt', prose(5000));
    const s = JSON.parse(pakit(['--data', data, 'store', '--json', join(src, 'x.txt')]).stdout);
    expect(s).toEqual([
      expect.objectContaining({ hash: expect.stringMatching(HASH), path: join(src, 'x.txt'), size: 5000 }),
    ]);
    const ls = JSON.parse(pakit(['--data', data, 'ls', '--json']).stdout);
    expect(ls.map((o: { hash: string }) => o.hash)).toEqual([s[0].hash]);
    const st = JSON.parse(pakit(['--data', data, 'stats', '--json']).stdout);
    expect(st).toMatchObject({ objects: 1, blocks: 2, originalBytes: 5000 });
    expect(st.storedBytes).toBeLessThan(5000);
  });

  it('exit codes: unknown hash 2, malformed hash 2, missing archive 2', () => {
    const data = tempDir();
    const src = tempDir();
    writeFile(src, 'x.txt', 'x');
    pakit(['--data', data, 'store', join(src, 'x.txt')]);
    const unknown = pakit(['--data', data, 'get', 'ab'.repeat(32)]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('ab'.repeat(32));
    const malformed = pakit(['--data', data, 'get', 'nothex']);
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toContain('not a hash');
    const none = pakit(['--data', join(tempDir(), 'nothing-here'), 'ls']);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('no archive');
  });

  it('proof → verify: valid exits 0; a tampered bundle exits 1 with the reason', () => {
    const data = tempDir();
    const src = tempDir();
    writeFile(src, 'deed.txt', prose(300_000));
    const hash = pakit(['--data', data, 'store', join(src, 'deed.txt')]).stdout.slice(0, 64);
    const proof = pakit(['--data', data, 'proof', hash, '--chunk', '0', '--to-genesis']);
    expect(proof.code).toBe(0);
    const file = join(tempDir(), 'p.json');
    writeFile(file, '', proof.stdout);
    const ok = pakit(['verify', join(file, '')]);
    expect(ok.code).toBe(0);
    expect(ok.stdout.trim().split('\n').at(-1)).toBe('valid');
    const bundle = JSON.parse(proof.stdout);
    bundle.block.size += 1;
    const bad = pakit(['verify', '-'], { input: JSON.stringify(bundle) });
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/invalid: header/);
    const junk = pakit(['verify', '-'], { input: '{"format": "pakit-proof", ' });
    expect(junk.code).toBe(1);
    expect(junk.stdout).toMatch(/invalid: format/);
  });

  it('restore refuses to overwrite nothing outside --to and needs --to', () => {
    const data = tempDir();
    const src = tempDir();
    makeTree(src);
    const snap = pakit(['--data', data, 'store', src]).stdout.trim().split('\n').at(-1)!.slice(0, 64);
    expect(pakit(['--data', data, 'restore', snap]).code).toBe(2);
    const to = join(tempDir(), 'r');
    const r = pakit(['--data', data, 'restore', snap, '--to', to]);
    expect(r.code).toBe(0);
    expect(readFileSync(join(to, 'deeds/deed-001.txt')).equals(readFileSync(join(src, 'deeds/deed-001.txt')))).toBe(
      true,
    );
  });
});
