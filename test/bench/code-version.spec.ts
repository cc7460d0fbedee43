import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { codeVersion } from '../../bench/code-version.js';

describe('bench: the code a run measured', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pakit-code-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const git = (...args: string[]): string =>
    execFileSync('git', ['-C', dir, '-c', 'user.name=t', '-c', 'user.email=t@example.org', ...args], {
      encoding: 'utf8',
    }).trim();

  it('names no commit outside a git checkout, and says why', async () => {
    const v = await codeVersion(dir);
    expect(v.commit).toBeNull();
    expect(v.dirty).toBeNull();
    expect(v.unknown).toMatch(/git -C .* rev-parse HEAD` exited with/);
  });

  it('names the commit, and whether a tracked file differs from it (untracked files do not count)', async () => {
    git('init', '-q');
    writeFileSync(join(dir, 'a.txt'), 'one');
    git('add', 'a.txt');
    git('commit', '-q', '-m', 'one');
    const head = git('rev-parse', 'HEAD');
    writeFileSync(join(dir, 'untracked.txt'), 'x');
    expect(await codeVersion(dir)).toEqual({ commit: head, dirty: false });
    writeFileSync(join(dir, 'a.txt'), 'two');
    expect(await codeVersion(dir)).toEqual({ commit: head, dirty: true });
  });
});
