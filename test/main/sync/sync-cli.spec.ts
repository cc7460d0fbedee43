import { spawnSync } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Archive } from '../../../main/archive/archive.js';
import { SyncDb } from '../../../main/sync/sync-db.js';
import { BIN, pakit, pakitAsync } from '../../helpers/cli.js';
import { writeSettled as put } from '../../helpers/files.js';
import { seeded, tempDir } from '../../helpers/tmp.js';

async function until<T>(f: () => T | undefined, ms: number): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('pakit sync (CLI)', () => {
  it('--once --json prints a summary; versions, get, log and restore --version read it back', () => {
    const data = tempDir();
    const root = tempDir('pakit-sync-');
    put(root, 'a.txt', 'one');
    put(root, 'b/c.txt', 'two');
    const first = pakit(['--data', data, 'sync', root, '--once', '--json']);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ state: 'idle', added: 2, changed: 0, deleted: 0 });
    put(root, 'a.txt', 'one, edited', 2_000);
    expect(pakit(['--data', data, 'sync', root, '--once']).stdout).toMatch(/0 added, 1 changed, 0 deleted/);

    const lines = pakit(['--data', data, 'versions', join(root, 'a.txt')])
      .stdout.trim()
      .split('\n');
    expect(lines).toHaveLength(2);
    for (const l of lines) expect(l).toMatch(/^[0-9a-f]{64} {2}\d{4}-\d\d-\d\dT[\d:.]+Z {2}\d+$/);
    const [v1, v2] = lines.map((l) => l.split('  ')[0]!);
    expect(pakit(['--data', data, 'get', v1!]).stdout).toBe('one');
    expect(pakit(['--data', data, 'get', v2!]).stdout).toBe('one, edited');
    expect(pakit(['--data', data, 'log']).stdout.trim().split('\n')).toHaveLength(2);

    const r = pakit(['--data', data, 'restore', join(root, 'a.txt'), '--version', v1!]);
    expect(r.code).toBe(0);
    expect(readFileSync(join(root, 'a.txt'), 'utf8')).toBe('one');
    // Bad input: a hash that is not a version of the path changes nothing.
    const bad = pakit(['--data', data, 'restore', join(root, 'b/c.txt'), '--version', v1!]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/is not a version of b\/c\.txt/);
    expect(readFileSync(join(root, 'b/c.txt'), 'utf8')).toBe('two');
    const outside = pakit(['--data', data, 'versions', join(data, 'x')]);
    expect(outside.code).toBe(2);
    expect(outside.stderr).toMatch(/not inside a sync folder/);
  });

  it('reports unreadable files and directories, syncs the rest, and deletes nothing (exit 2)', () => {
    const data = tempDir();
    const root = tempDir('pakit-sync-');
    put(root, 'ok.txt', 'ok');
    put(root, 'locked/inside.txt', 'inside');
    put(root, 'secret.txt', 'v1');
    expect(pakit(['--data', data, 'sync', root, '--once']).code).toBe(0);
    put(root, 'ok.txt', 'ok, edited', 2_000);
    put(root, 'secret.txt', 'v2 unreadable', 2_000);
    chmodSync(join(root, 'secret.txt'), 0o000);
    chmodSync(join(root, 'locked'), 0o000);
    // Root reads everything through CAP_DAC_OVERRIDE; drop it to get a real EACCES.
    const unprivileged =
      process.getuid?.() === 0 ? ['setpriv', '--bounding-set=-dac_override,-dac_read_search', '--'] : [];
    const cmd = [...unprivileged, process.execPath, BIN, '--data', data, 'sync', root, '--once', '--json'];
    const r = spawnSync(cmd[0]!, cmd.slice(1), { encoding: 'utf8' });
    chmodSync(join(root, 'locked'), 0o755);
    chmodSync(join(root, 'secret.txt'), 0o644);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/secret\.txt: EACCES/);
    expect(r.stderr).toMatch(/locked: EACCES/);
    expect(JSON.parse(r.stdout)).toMatchObject({ changed: 1, deleted: 0 });
    const versions = (p: string) =>
      pakit(['--data', data, 'versions', join(root, p)])
        .stdout.trim()
        .split('\n');
    expect(versions('locked/inside.txt')).toHaveLength(1);
    expect(versions('secret.txt')).toHaveLength(1);
    expect(versions('ok.txt')).toHaveLength(2);
  });

  it('watches the folder while other pakit processes read the archive', async () => {
    const data = tempDir();
    const root = tempDir('pakit-sync-');
    put(root, 'first.txt', 'first');
    const child = pakitAsync(['--data', data, 'sync', root, '--settle', '200']);
    const exited = new Promise<number | null>((r) => child.once('exit', r));
    let out = '';
    child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
    try {
      await until(() => (out.includes('first.txt') ? true : undefined), 20_000);
      writeFileSync(join(root, 'second.txt'), 'second');
      const line = await until(() => {
        const r = pakit(['--data', data, 'versions', join(root, 'second.txt')]);
        return r.code === 0 ? r.stdout.trim() : undefined;
      }, 10_000);
      const hash = line.split('  ')[0]!;
      expect(pakit(['--data', data, 'get', hash]).stdout).toBe('second');
      expect(pakit(['--data', data, 'ls']).code).toBe(0);
      expect(pakit(['--data', data, 'log']).stdout.trim().split('\n').length).toBeGreaterThanOrEqual(2);
    } finally {
      child.kill('SIGTERM');
    }
    const code = await exited;
    expect(code).toBe(0);
    // Stopping signed a checkpoint over what it synced: the newest version is provable.
    const line = pakit(['--data', data, 'versions', join(root, 'second.txt')]).stdout.trim();
    const proof = pakit(['--data', data, 'proof', line.split('  ')[0]!]);
    expect(pakit(['verify', '-'], { input: proof.stdout }).code).toBe(0);
  }, 60_000);

  it('survives kill -9 mid-sync: the restart ends with every file on disk as its newest version', async () => {
    const data = tempDir();
    const root = tempDir('pakit-sync-');
    const rand = seeded(7);
    for (let i = 0; i < 600; i++) put(root, `d${i % 12}/f${i}.txt`, `file ${i} `.repeat(1 + Math.floor(rand() * 400)));
    for (let i = 0; i < 4; i++) put(root, `big${i}.bin`, Buffer.alloc(4_000_000, i + 1));
    // How long an uninterrupted first sync takes here, to kill inside it.
    const probeData = tempDir();
    const t0 = Date.now();
    expect(pakit(['--data', probeData, 'sync', root, '--once']).code).toBe(0);
    const full = Date.now() - t0;

    for (let round = 0; round < 4; round++) {
      // Change some files between rounds so each round has work to do.
      for (let i = round; i < 600; i += 7) put(root, `d${i % 12}/f${i}.txt`, `round ${round} file ${i}`, 2_000);
      const child = pakitAsync(['--data', data, 'sync', root, '--once']);
      // Listened for from the start: a round with little to do may end before the kill, and a
      // listener added after the exit would wait forever (the test once hit its timeout so).
      const exited = new Promise((r) => child.once('exit', r));
      await new Promise((r) => setTimeout(r, 150 + rand() * full * 0.8));
      child.kill('SIGKILL');
      await exited;
      const again = pakit(['--data', data, 'sync', root, '--once']);
      expect(again.stderr).toBe('');
      expect(again.code).toBe(0);
    }
    expect(pakit(['--data', data, 'check', '--quick']).code).toBe(0);
    const archive = await Archive.open({ dir: data, readonly: true });
    try {
      const db = new SyncDb(archive.ctx.db);
      const [folder] = db.folders();
      const tracked = db.tracked(folder!.id);
      expect(tracked.size).toBe(604);
      for (const [rel] of tracked) {
        const versions = db.versions(folder!.id, rel);
        const newest = versions.at(-1)!;
        expect(newest.deleted).toBe(false);
        const parts: Buffer[] = [];
        for await (const c of archive.read(newest.hash)) parts.push(c);
        expect(Buffer.concat(parts).equals(readFileSync(join(root, rel)))).toBe(true);
      }
    } finally {
      await archive.close();
    }
  }, 240_000);
});
