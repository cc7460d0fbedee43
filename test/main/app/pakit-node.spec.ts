import { existsSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SETTINGS_FILE } from '../../../main/app/node-settings.js';
import { PakitNode } from '../../../main/app/pakit-node.js';
import { listVersions } from '../../../main/sync/versions.js';
import { dispatch, type EventName } from '../../../shared/ipc-contract.js';
import { writeSettled } from '../../helpers/files.js';
import { tempDir } from '../../helpers/tmp.js';

const running: PakitNode[] = [];
afterEach(async () => {
  for (const n of running.splice(0).reverse()) await n.stop();
});

async function start(dataDir: string, folder?: string): Promise<PakitNode> {
  const node = await PakitNode.start({ dataDir, settleMs: 100, ...(folder ? { folder } : {}) });
  running.push(node);
  return node;
}

async function stop(node: PakitNode): Promise<void> {
  running.splice(running.indexOf(node), 1);
  await node.stop();
}

/** Whether the archive holds a version of `abs` (a file in a sync folder). */
function hasVersion(node: PakitNode, abs: string): boolean {
  try {
    return listVersions(node.archive, abs).versions.length > 0;
  } catch {
    return false;
  }
}

describe('PakitNode: the sync folder chosen in Settings', () => {
  it('refuses a folder that is missing, a file, relative, or holds or lies in the data directory; nothing changes', async () => {
    const data = tempDir();
    const first = tempDir('pakit-folder-');
    const node = await start(data, first);
    const file = join(tempDir(), 'a-file.txt');
    writeFileSync(file, 'not a folder');
    const cases: [string, RegExp][] = [
      [join(tempDir(), 'missing'), /missing does not exist/],
      [file, /a-file\.txt is not a directory/],
      ['relative/path', /relative\/path is not an absolute path/],
      [join(data, '..'), /data directory .* is inside/],
      [join(data, 'keys'), /inside the archive's own data directory/],
    ];
    for (const [path, message] of cases) {
      const r = await dispatch(node.handlers, 'settings.setFolder', { path });
      expect(r).toMatchObject({
        ok: false,
        error: { name: 'SyncFolderError', message: expect.stringMatching(message) },
      });
    }
    const empty = await dispatch(node.handlers, 'settings.setFolder', { path: '' });
    expect(empty).toMatchObject({ ok: false, error: { name: 'InvalidRequestError' } });
    expect(node.folder!.root).toBe(realpathSync(first));
    expect(existsSync(join(data, SETTINGS_FILE))).toBe(false);
  });

  it('closes the old folder, watches the new one, keeps it for the next start; --folder wins over it', async () => {
    const data = tempDir();
    const a = tempDir('pakit-folder-a-');
    const b = tempDir('pakit-folder-b-');
    writeSettled(b, 'in-b.txt', 'already in b');
    const node = await start(data, a);
    const events: EventName[] = [];
    node.onEvent((name) => events.push(name));
    const old = node.folder!;

    const r = await dispatch(node.handlers, 'settings.setFolder', { path: b });
    expect(r).toMatchObject({
      ok: true,
      value: { folder: realpathSync(b), folderSource: 'settings', folderProblem: null },
    });
    expect(node.folder).not.toBe(old);
    expect(events).toContain('node.status');
    expect(JSON.parse(readFileSync(join(data, SETTINGS_FILE), 'utf8'))).toEqual({ folder: realpathSync(b) });
    // The new folder is synced and watched, with its status events; the old one is not watched any more.
    await expect.poll(() => hasVersion(node, join(realpathSync(b), 'in-b.txt')), { timeout: 10_000 }).toBe(true);
    writeSettled(b, 'later.txt', 'written after the change');
    await expect.poll(() => hasVersion(node, join(realpathSync(b), 'later.txt')), { timeout: 10_000 }).toBe(true);
    expect(events.filter((e) => e === 'sync.status').length).toBeGreaterThan(0);
    // Written into both at once: once b's watcher has recorded its file, a's would have too, were it watched.
    writeSettled(a, 'left-behind.txt', 'the old folder is closed');
    writeSettled(b, 'beside.txt', 'the new folder is watched');
    await expect.poll(() => hasVersion(node, join(realpathSync(b), 'beside.txt')), { timeout: 10_000 }).toBe(true);
    await new Promise((r) => setTimeout(r, 500));
    expect(hasVersion(node, join(realpathSync(a), 'left-behind.txt'))).toBe(false);
    await stop(node);

    // Restarted without a folder: the saved one.
    const again = await start(data);
    expect(again.folder!.root).toBe(realpathSync(b));
    expect(await again.handlers['settings.get']({})).toMatchObject({ folderSource: 'settings' });
    await stop(again);
    // With --folder: that one, and the saved setting stays as it was.
    const cli = await start(data, a);
    expect(cli.folder!.root).toBe(realpathSync(a));
    expect(await cli.handlers['settings.get']({})).toMatchObject({ folderSource: 'command-line' });
    expect(JSON.parse(readFileSync(join(data, SETTINGS_FILE), 'utf8'))).toEqual({ folder: realpathSync(b) });
  });

  it('starts without the saved folder when it is gone, and says why; a settings file that is not ours is an error', async () => {
    const data = tempDir();
    writeFileSync(join(data, SETTINGS_FILE), JSON.stringify({ folder: '/no/such/folder' }));
    const node = await start(data);
    expect(node.folder).toBeUndefined();
    expect(await node.handlers['settings.get']({})).toMatchObject({
      folder: null,
      folderSource: 'none',
      folderProblem: expect.stringMatching(/\/no\/such\/folder .*does not exist/),
    });
    await stop(node);

    writeFileSync(join(data, SETTINGS_FILE), '{ not json');
    await expect(PakitNode.start({ dataDir: data })).rejects.toMatchObject({
      name: 'SettingsFileError',
      message: expect.stringContaining(join(data, SETTINGS_FILE)),
    });
    writeFileSync(join(data, SETTINGS_FILE), JSON.stringify({ folder: 'relative' }));
    await expect(PakitNode.start({ dataDir: data })).rejects.toMatchObject({ name: 'SettingsFileError' });
  });
});

describe('PakitNode: blocks, newest first, a page at a time', () => {
  it('pages from the newest block to genesis, with each parent by hash and by log position', async () => {
    const node = await start(tempDir());
    const src = tempDir();
    for (let i = 0; i < 5; i++) writeFileSync(join(src, `f${i}.txt`), `file ${i}`);
    await node.archive.store([src]);
    const total = node.archive.stats().blocks;
    const first = await node.handlers['archive.blocks']({ offset: 0, limit: 3 });
    expect(first.total).toBe(total);
    expect(first.items.map((b) => b.seq)).toEqual([total - 1, total - 2, total - 3]);
    for (const b of first.items) {
      const header = node.archive.block(b.hash).header;
      expect(b.parents).toEqual(header.parents.map((p) => Buffer.from(p).toString('hex')));
      expect(b.parentSeqs.map((s) => node.archive.ctx.index.bySeq(s)!.hash.toString('hex'))).toEqual(b.parents);
    }
    const last = await node.handlers['archive.blocks']({ offset: total - 2, limit: 10 });
    expect(last.items.map((b) => b.seq)).toEqual([1, 0]);
    expect(last.items[1]).toMatchObject({ kind: 'genesis', hash: node.archive.id, parents: [], parentSeqs: [] });
    expect((await node.handlers['archive.blocks']({ offset: total, limit: 10 })).items).toEqual([]);
  });
});

describe('PakitNode: chain anchoring settings', () => {
  it('off by default: nothing runs, proofs carry no anchor, nothing is queued', async () => {
    const node = await start(tempDir());
    expect(await node.handlers['chain.status']({})).toEqual({
      state: 'off',
      endpoint: null,
      signer: null,
      pending: null,
      last: null,
    });
    const src = tempDir();
    writeFileSync(join(src, 'a.txt'), 'a record');
    const { results } = await node.archive.store([join(src, 'a.txt')]);
    const proof = (await node.handlers['archive.proof']({ hash: results[0]!.hash })) as Record<string, unknown>;
    expect('anchor' in proof).toBe(false);
    expect(await node.handlers['chain.anchors']({ limit: 10 })).toEqual([]);
    const now = await dispatch(node.handlers, 'chain.anchorNow', {});
    expect(now).toMatchObject({ ok: false, error: { name: 'NoChainError', message: expect.stringMatching(/off/) } });
    expect(await node.handlers['chain.anchors']({ limit: 10 })).toEqual([]);
  });

  it('settings are checked before anything changes, kept beside the folder, never with the secret', async () => {
    const data = tempDir();
    const folder = tempDir();
    const node = await start(data);
    await node.handlers['settings.setFolder']({ path: folder });
    const settings = {
      enabled: false,
      endpoint: 'ws://127.0.0.1:9',
      call: 'system.remark',
      args: ['remark' as const],
      everyMinutes: 5,
      everyBlocks: 50,
    };
    const bad: [Partial<typeof settings> & { suri?: string }, RegExp][] = [
      [{ endpoint: 'https://rpc.example' }, /must start with ws:\/\/ or wss:\/\//],
      [{ call: 'remark' }, /call must look like section\.method/],
      [
        { suri: 'bottom drive obey lake curtain smoke basket hold race lonely fit walk x' },
        /the secret URI is not valid/,
      ],
    ];
    for (const [change, reason] of bad) {
      const r = await dispatch(node.handlers, 'settings.setChain', { ...settings, ...change });
      expect(r).toMatchObject({ ok: false, error: { message: expect.stringMatching(reason) } });
    }
    expect(JSON.parse(readFileSync(join(data, SETTINGS_FILE), 'utf8'))).toEqual({ folder: realpathSync(folder) });

    const ok = await node.handlers['settings.setChain']({ ...settings, suri: '//Alice' });
    expect(ok.chain).toEqual({ ...settings, signer: expect.stringMatching(/^0xd43593c715fdd31c61141abd/) });
    const saved = readFileSync(join(data, SETTINGS_FILE), 'utf8');
    expect(JSON.parse(saved)).toEqual({ folder: realpathSync(folder), chain: settings });
    expect(saved).not.toContain('Alice');
    await stop(node);

    // After a restart the settings are back; the signer is not (it was never written).
    const again = await start(data);
    expect((await again.handlers['settings.get']({})).chain).toEqual({ ...settings, signer: null });
    expect(again.folder!.root).toBe(realpathSync(folder));
  });
});

describe('PakitNode: the sync folder as a tree', () => {
  it('sync.dir lists a directory through the contract; a path that is not one gets a typed error', async () => {
    const folder = tempDir();
    writeSettled(folder, 'deeds/1962.txt', 'a deed');
    writeSettled(folder, 'deeds/1963.txt', 'another deed');
    writeSettled(folder, 'index.txt', 'the index');
    const node = await start(tempDir(), folder);
    expect(await node.handlers['sync.dir']({ dir: '', offset: 0, limit: 10 })).toMatchObject({
      dir: '',
      total: 2,
      dirs: 1,
      items: [
        { kind: 'dir', name: 'deeds', path: 'deeds/', files: 2 },
        { kind: 'file', name: 'index.txt', path: 'index.txt', versions: 1, size: 9 },
      ],
    });
    expect(await node.handlers['sync.dir']({ dir: 'deeds/', offset: 1, limit: 10 })).toMatchObject({
      dir: 'deeds/',
      offset: 1,
      items: [{ kind: 'file', name: '1963.txt', path: 'deeds/1963.txt' }],
    });
    expect(await dispatch(node.handlers, 'sync.dir', { dir: 'maps', offset: 0, limit: 10 })).toMatchObject({
      ok: false,
      error: { name: 'NotADirectoryError', message: 'maps/ is not a directory of the sync folder' },
    });
    expect(await dispatch(node.handlers, 'sync.dir', { dir: '', offset: -1, limit: 10 })).toMatchObject({
      ok: false,
      error: { name: 'InvalidRequestError' },
    });
  });
});
