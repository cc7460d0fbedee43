import { unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FolderTree } from '../../../main/sync/folder-tree.js';
import { SyncFolder } from '../../../main/sync/sync-folder.js';
import { openArchive } from '../../helpers/archive.js';
import { writeSettled as put } from '../../helpers/files.js';
import { tempDir } from '../../helpers/tmp.js';

const folders: SyncFolder[] = [];
afterEach(async () => {
  for (const f of folders.splice(0)) await f.close();
});

describe('sync folder: the tree', () => {
  it('lists a directory: subdirectories (with their live files) first, then its own files, a page at a time', async () => {
    const root = tempDir('pakit-tree-');
    const archive = await openArchive();
    // Names that sort around '/' ('-' is below it, '0' above) and a directory with no files of its own.
    for (const rel of [
      'minutes.txt',
      'a.txt',
      'a/x.txt',
      'a/y.txt',
      'a/deep/er/z.txt',
      'a-b/one.txt',
      'a0/two.txt',
      'Ñandú/rhea.txt',
      'gone/only.txt',
    ])
      put(root, rel, `contents of ${rel}`);
    const folder = SyncFolder.open({ archive, root, settleMs: 100 });
    folders.push(folder);
    await folder.sync();
    put(root, 'a.txt', 'a second version of a.txt', 3_000);
    unlinkSync(join(root, 'gone', 'only.txt'));
    await folder.sync();

    const tree = new FolderTree(archive.ctx.db);
    const top = tree.page(folder.id, '', 0, 100);
    // In path order, as the flat list is: 'a-b/' sorts before 'a/' ('-' is below '/').
    expect(top.items.map((e) => `${e.kind} ${e.name}`)).toEqual([
      'dir a-b',
      'dir a',
      'dir a0',
      'dir gone',
      'dir Ñandú',
      'file a.txt',
      'file minutes.txt',
    ]);
    expect(top).toMatchObject({ total: 7, dirs: 5 });
    const byName = new Map(top.items.map((e) => [e.name, e]));
    expect(byName.get('a')).toEqual({ kind: 'dir', name: 'a', path: 'a/', files: 3 });
    // A directory whose files were all deleted stays, with their history and no live file.
    expect(byName.get('gone')).toEqual({ kind: 'dir', name: 'gone', path: 'gone/', files: 0 });
    expect(byName.get('a.txt')).toMatchObject({ kind: 'file', path: 'a.txt', versions: 2, deleted: false, size: 25 });

    // Pages are cuts of the same order, across the line between directories and files.
    expect(tree.page(folder.id, '', 3, 3).items).toEqual(top.items.slice(3, 6));
    expect(tree.page(folder.id, '', 7, 3).items).toEqual([]);

    expect(tree.page(folder.id, 'a', 0, 100).items.map((e) => `${e.kind} ${e.path}`)).toEqual([
      'dir a/deep/',
      'file a/x.txt',
      'file a/y.txt',
    ]);
    expect(tree.page(folder.id, '/a/deep/', 0, 10).items).toEqual([
      { kind: 'dir', name: 'er', path: 'a/deep/er/', files: 1 },
    ]);
    expect(tree.page(folder.id, 'gone', 0, 10).items).toMatchObject([
      { kind: 'file', name: 'only.txt', deleted: true, versions: 2 },
    ]);
    expect(() => tree.page(folder.id, 'nowhere', 0, 10)).toThrow(/nowhere\/ is not a directory of the sync folder/);
    expect(() => tree.page(folder.id, 'a/../..', 0, 10)).toThrow(/no \. or \.\. segments/);

    // Directory queries walk the directory index: no scan of the folder's paths.
    for (const plan of tree.plans()) expect(plan).toMatch(/USING (COVERING )?INDEX sync_latest_by_dir/);
  });
});
