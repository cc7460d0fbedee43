import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DirLister, SLOW_LIST_MS } from '../../../main/archive/dir-lister.js';
import { tempDir } from '../../helpers/tmp.js';

function folder(): string {
  const dir = tempDir();
  for (const name of ['b.txt', 'a.txt', 'é.txt']) writeFileSync(join(dir, name), name);
  mkdirSync(join(dir, 'sub'));
  return dir;
}

const names = (entries: { name: string; isFile(): boolean }[]): string[] =>
  entries.map((e) => `${e.name}:${e.isFile() ? 'file' : 'other'}`).sort();

/** A lister whose clock moves on by `step` ms at every reading; counts the readings. */
function lister(step: number): { lister: DirLister; readings: () => number } {
  let t = 0;
  let n = 0;
  return { lister: new DirLister(() => (n++, (t += step))), readings: () => n };
}

describe('DirLister (how a store walk lists directories)', () => {
  it('lists in place while listings are fast, with the same entries as readdir', async () => {
    const dir = folder();
    const { lister: l, readings } = lister(SLOW_LIST_MS - 1);
    const want = names(readdirSync(dir, { withFileTypes: true }));
    expect(names(await l.list(dir))).toEqual(want);
    expect(names(await l.list(dir))).toEqual(want);
    expect(l.sync).toBe(true);
    expect(readings()).toBe(4); // each listing in place is timed: before and after
  });

  it('lists through the thread pool for good once a listing took over SLOW_LIST_MS', async () => {
    const dir = folder();
    const { lister: l, readings } = lister(SLOW_LIST_MS + 1);
    const want = names(readdirSync(dir, { withFileTypes: true }));
    expect(names(await l.list(dir))).toEqual(want);
    expect(l.sync).toBe(false);
    expect(names(await l.list(dir))).toEqual(want);
    expect(readings()).toBe(2); // not timed any more: the pool is used
  });

  it('fails a listing of a missing directory with its code, in either mode', async () => {
    const missing = join(tempDir(), 'gone');
    await expect(lister(0).lister.list(missing)).rejects.toMatchObject({ code: 'ENOENT' });
    const { lister: pool } = lister(SLOW_LIST_MS + 1);
    await pool.list(tempDir());
    expect(pool.sync).toBe(false);
    await expect(pool.list(missing)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
