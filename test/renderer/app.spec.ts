import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Archive } from '../../main/archive/archive.js';
import type { WrittenBlock } from '../../main/dag/block-writer.js';
import { formatBytes } from '../../shared/sync-status.js';
import { pakit, pakitAsync, ROOT } from '../helpers/cli.js';
import { prose } from '../helpers/files.js';
import { tempDir } from '../helpers/tmp.js';
import { startLocalChain, type LocalChain } from '../../bench/local-chain.js';

const CHROMIUM = process.env.PAKIT_CHROMIUM ?? '/usr/bin/chromium';
const ARTIFACTS = join(ROOT, 'test-artifacts');

let browser: Browser;
let serve: ChildProcess;
let url = '';
let data = '';
let folder = '';

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium (or set PAKIT_CHROMIUM)`);
  mkdirSync(ARTIFACTS, { recursive: true });
  // Made here, not with tempDir(): those are removed after every test, and the server outlives them.
  data = mkdtempSync(join(tmpdir(), 'pakit-e2e-data-'));
  folder = mkdtempSync(join(tmpdir(), 'pakit-e2e-folder-'));
  ({ proc: serve, url } = await startServe(['--data', data, 'serve', '--folder', folder, '--port', '0']));
  // launch() gives every run a fresh temporary profile of its own.
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  if (serve) await stopServe(serve);
  for (const d of [data, folder]) if (d) rmSync(d, { recursive: true, force: true });
});

/** Starts `pakit serve` and resolves with the address it prints. */
async function startServe(
  args: readonly string[],
  env?: NodeJS.ProcessEnv,
): Promise<{ proc: ChildProcess; url: string }> {
  const proc = pakitAsync(args, env);
  const at = await new Promise<string>((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      const m = /http:\/\/127\.0\.0\.1:\d+\/#token=[0-9a-f]{64}/.exec(out);
      if (m) resolve(m[0]);
    });
    proc.once('exit', (code) => reject(new Error(`pakit serve exited with ${code}`)));
  });
  return { proc, url: at };
}

async function stopServe(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null) return;
  proc.kill('SIGTERM');
  await new Promise((r) => proc.once('exit', r));
}

/** A directory of the test's own, removed after all (a server may outlive the test that made it). */
function ownDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  extraDirs.push(d);
  return d;
}
const extraDirs: string[] = [];
afterAll(() => {
  for (const d of extraDirs) rmSync(d, { recursive: true, force: true });
});

/** How many 28-pixel rows fit in a list's viewport, with the overscan the view keeps (5 above, 10 in all). */
async function visibleRows(list: Locator): Promise<number> {
  const height = await list.evaluate((el) => el.clientHeight);
  return Math.ceil(height / 28) + 10;
}

async function open(
  at = url,
  view?: 'Files' | 'Archive' | 'DAG' | 'Proofs' | 'Anchors' | 'Sync' | 'Settings',
): Promise<Page> {
  const page = await browser.newPage();
  await page.goto(at);
  if (view) await page.getByRole('navigation', { name: 'Views' }).getByRole('button', { name: view }).click();
  return page;
}

/**
 * Scrolls a list to its end and presses End on it in the task after the scroll event, while the
 * fetch of the last page that the scroll started is still on its way: the key must wait for it.
 */
async function endWhileScrollingToEnd(list: Locator): Promise<void> {
  await list.evaluate(
    (el) =>
      new Promise<void>((resolve) => {
        el.addEventListener(
          'scroll',
          () =>
            setTimeout(() => {
              el.dispatchEvent(new KeyboardEvent('keydown', { key: 'End', bubbles: true }));
              resolve();
            }),
          { once: true },
        );
        el.scrollTop = el.scrollHeight;
      }),
  );
}

describe('the served UI in Chromium', () => {
  it('archives a picked and a dropped file: each receipt hash returns the same bytes from pakit get', async () => {
    const page = await open(url, 'Archive');
    await expect.poll(() => page.getByRole('status', { name: 'Node status' }).textContent()).toMatch(/pakit /);
    await page.screenshot({ path: join(ARTIFACTS, 'archive-view.png'), fullPage: true });

    const dir = tempDir();
    const picked = join(dir, 'deed-1984.txt');
    writeFileSync(picked, prose(300_000, 5));
    await page.getByLabel('Choose files to archive').setInputFiles(picked);
    const receipt = page.getByRole('listitem', { name: 'Receipt for deed-1984.txt' });
    const hash = (await receipt.getByTestId('receipt-hash').textContent())!;
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(pakit(['--data', data, 'get', hash]).stdoutBytes.equals(readFileSync(picked))).toBe(true);

    // A drop: a synthetic drop event carrying a DataTransfer with a File.
    await page.evaluate(() => {
      const dt = new DataTransfer();
      dt.items.add(new File(['survey plan, lot 12'], 'survey.txt', { type: 'text/plain' }));
      const zone = document.querySelector('[aria-label="Drop files here to archive them"]')!;
      zone.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    });
    const dropped = page.getByRole('listitem', { name: 'Receipt for survey.txt' });
    const droppedHash = (await dropped.getByTestId('receipt-hash').textContent())!;
    expect(pakit(['--data', data, 'get', droppedHash]).stdout).toBe('survey plan, lot 12');
    await page.screenshot({ path: join(ARTIFACTS, 'archive-receipts.png'), fullPage: true });
    await page.close();
  }, 60_000);

  it('builds a proof and verifies it in the renderer; a tampered proof is invalid with its reason', async () => {
    const page = await open(url, 'Archive');
    const dir = tempDir();
    const file = join(dir, 'minutes.txt');
    writeFileSync(file, 'council minutes, 3 March');
    await page.getByLabel('Choose files to archive').setInputFiles(file);
    await page.getByRole('button', { name: 'Proof for minutes.txt' }).click();
    await expect.poll(() => page.getByTestId('verdict').textContent()).toBe('Valid');
    const steps = await page.getByRole('list', { name: 'Verification steps' }).getByRole('listitem').allTextContents();
    expect(steps.length).toBeGreaterThanOrEqual(3);
    expect(steps.every((s) => s.startsWith('✓'))).toBe(true);
    await page.screenshot({ path: join(ARTIFACTS, 'proofs-valid.png'), fullPage: true });

    // The same proof with one hex digit of the block header changed, imported from a file.
    const href = (await page.getByRole('link', { name: 'Export proof' }).getAttribute('href'))!;
    const proof = JSON.parse(decodeURIComponent(href.slice(href.indexOf(',') + 1))) as { checkpoint: { root: string } };
    const root = proof.checkpoint.root;
    proof.checkpoint.root = (root[0] === '0' ? '1' : '0') + root.slice(1);
    const tampered = join(dir, 'tampered.json');
    writeFileSync(tampered, JSON.stringify(proof));
    await page.getByLabel('Import a proof file').setInputFiles(tampered);
    await expect.poll(() => page.getByTestId('verdict').textContent()).toMatch(/^Invalid: .+/);
    await page.screenshot({ path: join(ARTIFACTS, 'proofs-tampered.png'), fullPage: true });
    await page.close();
  }, 60_000);

  it('shows a file written into the sync folder within seconds, and restores an old version', async () => {
    const page = await open();
    const list = page.getByRole('listbox', { name: 'Files in the sync folder' });
    writeFileSync(join(folder, 'register.txt'), 'register, first entry');
    const started = Date.now();
    const row = list.getByRole('option').filter({ hasText: 'register.txt' });
    await row.waitFor({ timeout: 10_000 });
    expect(Date.now() - started).toBeLessThan(10_000);
    await expect.poll(() => row.textContent()).toMatch(/1 version$/);
    // A second version, then put the first back from the UI.
    await new Promise((r) => setTimeout(r, 1_100));
    writeFileSync(join(folder, 'register.txt'), 'register, second entry');
    await expect.poll(() => row.textContent(), { timeout: 10_000 }).toMatch(/2 versions$/);
    await row.click();
    const versions = page.getByRole('list', { name: 'Versions' }).getByRole('listitem');
    await expect.poll(() => versions.count()).toBe(2);
    await page.screenshot({ path: join(ARTIFACTS, 'files-view.png'), fullPage: true });
    await versions
      .nth(1)
      .getByRole('button', { name: /^Restore the version of / })
      .click();
    await expect.poll(() => readFileSync(join(folder, 'register.txt'), 'utf8')).toBe('register, first entry');
    await expect.poll(() => row.textContent(), { timeout: 10_000 }).toMatch(/3 versions$/);
    // The filter is applied by the node, page by page.
    writeFileSync(join(folder, 'minutes.txt'), 'minutes');
    await page.getByRole('searchbox', { name: 'Filter' }).fill('regist');
    await expect.poll(() => page.getByText(/^1 of \d+ files$/).count()).toBe(1);
    expect(await list.getByRole('option').allTextContents()).toEqual([expect.stringContaining('register.txt')]);
    // Keyboard: Home and the arrow keys move the selection and show each file's history.
    await page.getByRole('searchbox', { name: 'Filter' }).fill('');
    await expect.poll(() => list.getByRole('option').count(), { timeout: 10_000 }).toBe(2);
    await list.focus();
    await page.keyboard.press('Home');
    await expect.poll(() => page.getByRole('heading', { name: 'History of minutes.txt' }).count()).toBe(1);
    await page.keyboard.press('ArrowDown');
    await expect.poll(() => page.getByRole('heading', { name: 'History of register.txt' }).count()).toBe(1);
    await page.close();
  }, 60_000);

  it('pauses and resumes syncing from the Sync view; a file written while paused is synced on resume', async () => {
    const page = await open(url, 'Sync');
    const state = page.getByTestId('sync-state');
    await expect.poll(() => state.textContent(), { timeout: 10_000 }).toBe('Up to date');
    await page.getByRole('button', { name: 'Pause syncing' }).click();
    await expect.poll(() => state.textContent()).toBe('Paused: paused from the app');
    writeFileSync(join(folder, 'while-paused.txt'), 'written while paused');
    await new Promise((r) => setTimeout(r, 2_000));
    expect(pakit(['--data', data, 'versions', join(folder, 'while-paused.txt')]).code).toBe(2);
    await page.screenshot({ path: join(ARTIFACTS, 'sync-paused.png'), fullPage: true });
    await page.getByRole('button', { name: 'Resume syncing' }).click();
    await expect
      .poll(() => pakit(['--data', data, 'versions', join(folder, 'while-paused.txt')]).code, { timeout: 10_000 })
      .toBe(0);
    await expect.poll(() => state.textContent()).toBe('Up to date');
    const activity = await page.getByRole('list', { name: 'Recent activity' }).textContent();
    expect(activity).toContain('while-paused.txt');
    await page.screenshot({ path: join(ARTIFACTS, 'sync-view.png'), fullPage: true });
    await page.close();
  }, 60_000);

  it('shows the DAG: figures as pakit stats has them, growth and savings charts, blocks linked to their parents', async () => {
    const page = await open(url, 'DAG');
    const stats = JSON.parse(pakit(['--data', data, 'stats', '--json']).stdout) as {
      blocks: number;
      originalBytes: number;
    };
    const figures = page.getByRole('definition');
    await expect.poll(() => figures.first().textContent()).toBe(String(stats.blocks));
    const list = page.getByRole('listbox', { name: 'Blocks, newest first, and their parent links' });
    const rows = list.getByRole('option');
    await expect.poll(() => rows.count()).toBe(Math.min(stats.blocks, await visibleRows(list)));
    // Polled: a sync finishing meanwhile refreshes the view, which draws its rows and links again.
    await expect.poll(() => page.locator('svg path.link').count()).toBeGreaterThan(0);
    // The charts, with their figures as a table: the last row is the archive now.
    for (const name of ['Growth over time', 'Savings over time'])
      await expect.poll(() => page.getByRole('img', { name: new RegExp(`^${name}`) }).count()).toBe(1);
    await page.getByText('Growth over time: the figures as a table').click();
    // The table is built once its <details> opens: polled, not read at once.
    const table = page.getByRole('table');
    await expect
      .poll(async () => (await table.getByRole('row').last().getByRole('cell').allTextContents()).slice(1, 3))
      .toEqual([String(stats.blocks), formatBytes(stats.originalBytes)]);

    await rows.first().click();
    const details = page.getByRole('definition').filter({ hasText: /^[0-9a-f]{64}$/ });
    const hash = (await details.first().textContent())!;
    expect(pakit(['--data', data, 'ls']).stdout).toContain(hash);
    await page.screenshot({ path: join(ARTIFACTS, 'dag-view.png'), fullPage: true });
    await page.close();
  }, 60_000);

  it('draws savings below zero inside the chart: an archive of one 3-byte file, stored larger than it is', async () => {
    const dir = ownDir('pakit-e2e-tiny-');
    writeFileSync(join(dir, 'note.txt'), 'hi\n');
    pakit(['--data', join(dir, 'data'), 'store', join(dir, 'note.txt')]);
    const { proc, url: at } = await startServe(['--data', join(dir, 'data'), 'serve', '--port', '0']);
    try {
      const page = await open(at, 'DAG');
      await page.getByText('Savings over time: the figures as a table').click();
      const cells = page.getByRole('table').getByRole('cell');
      // The file's block saved less than nothing by compression: the case the chart must hold.
      await expect.poll(async () => (await cells.allTextContents()).some((t) => t.startsWith('−'))).toBe(true);
      const ys = await page
        .locator('figure svg polyline')
        .evaluateAll((ls) =>
          ls.flatMap((l) => (l.getAttribute('points') ?? '').split(' ').map((xy) => Number(xy.split(',')[1]))),
        );
      expect(ys.length).toBeGreaterThan(0);
      for (const y of ys) expect(y >= 10 && y <= 138, `a chart point at row ${y}`).toBe(true);
      await page.close();
    } finally {
      await stopServe(proc);
    }
  }, 60_000);

  it('scrolls a DAG of 20,000 blocks: a screenful of rows in the DOM, genesis at the end, details as the engine has them', async () => {
    const dir = ownDir('pakit-e2e-dag-');
    const archive = await Archive.open({ dir });
    const written: WrittenBlock[] = [];
    for (let i = 0; i < 20_000; i += 5_000)
      written.push(
        ...archive.appendBlocks(
          Array.from({ length: 5_000 }, (_, k) => ({
            kind: 'snapshot' as const,
            contentRoot: randomBytes(32),
            size: 0,
            storedSize: 0,
            chunkCount: 0,
            codec: 'none',
            meta: { name: `block ${i + k + 1}` },
          })),
        ),
      );
    await archive.close();
    const { proc, url: at } = await startServe(['--data', dir, 'serve', '--port', '0']);
    try {
      const page = await open(at, 'DAG');
      const list = page.getByRole('listbox', { name: 'Blocks, newest first, and their parent links' });
      const rows = list.getByRole('option');
      const details = page.getByRole('list', { name: 'Parents' });
      const hashShown = () =>
        page
          .getByRole('definition')
          .filter({ hasText: /^[0-9a-f]{64}$/ })
          .first()
          .textContent();
      await expect.poll(() => rows.first().textContent()).toMatch(/^#20000/);
      expect(await rows.count()).toBeLessThan(100);

      // The newest block, as the engine wrote it.
      const newest = written.at(-1)!;
      await rows.first().click();
      await expect.poll(hashShown).toBe(newest.hash.toString('hex'));
      const parents = (await details.locator('.hash').allTextContents()).map((t) => t.trim());
      expect(parents).toEqual(newest.header.parents.map((p) => Buffer.from(p).toString('hex')));
      // A parent's button goes to that block.
      const parentSeq = Number(/#(\d+)/.exec((await details.getByRole('button').last().textContent())!)![1]);
      await details.getByRole('button').last().click();
      await expect.poll(() => page.getByRole('heading', { name: `Block #${parentSeq}` }).count()).toBe(1);
      expect(await hashShown()).toBe(written[parentSeq - 1]!.hash.toString('hex'));

      // Keyboard: Home, then one down.
      await list.focus();
      await page.keyboard.press('Home');
      await expect.poll(() => page.getByRole('heading', { name: 'Block #20000' }).count()).toBe(1);
      await page.keyboard.press('ArrowDown');
      await expect.poll(() => page.getByRole('heading', { name: 'Block #19999' }).count()).toBe(1);

      // End while the scroll to the end is still fetching the last page: the key's selection waits
      // for that same fetch, and shows genesis.
      await endWhileScrollingToEnd(list);
      await expect.poll(() => page.getByRole('heading', { name: 'Block #0', exact: true }).count()).toBe(1);

      // Scrolled to the end: genesis, the archive's id as pakit stats gives it, still a screenful of rows.
      const genesis = rows.filter({ hasText: /^#0\s*genesis/ });
      await genesis.waitFor();
      expect(await rows.count()).toBeLessThan(100);
      await genesis.click();
      const stats = JSON.parse(pakit(['--data', dir, 'stats', '--json']).stdout) as { archive: string; blocks: number };
      expect(stats.blocks).toBe(20_001);
      await expect.poll(hashShown).toBe(stats.archive);
      await page.screenshot({ path: join(ARTIFACTS, 'dag-20000-genesis.png'), fullPage: true });
      await page.close();
    } finally {
      await stopServe(proc);
    }
  }, 120_000);

  it('edits the ignore patterns in Settings: .pakitignore is written and the rules apply', async () => {
    const page = await open(url, 'Settings');
    const box = page.getByLabel(/^Ignore patterns/);
    await box.fill('# drafts stay out\ndrafts/\n*.bak');
    await page.getByRole('button', { name: 'Save ignore patterns' }).click();
    await expect.poll(() => page.getByRole('status').filter({ hasText: 'Saved' }).count()).toBe(1);
    expect(readFileSync(join(folder, '.pakitignore'), 'utf8')).toBe('# drafts stay out\ndrafts/\n*.bak\n');
    mkdirSync(join(folder, 'drafts'), { recursive: true });
    writeFileSync(join(folder, 'drafts', 'letter.txt'), 'draft');
    writeFileSync(join(folder, 'old.bak'), 'backup');
    writeFileSync(join(folder, 'kept.txt'), 'kept');
    await expect
      .poll(() => pakit(['--data', data, 'versions', join(folder, 'kept.txt')]).code, { timeout: 10_000 })
      .toBe(0);
    expect(pakit(['--data', data, 'versions', join(folder, 'drafts', 'letter.txt')]).code).toBe(2);
    expect(pakit(['--data', data, 'versions', join(folder, 'old.bak')]).code).toBe(2);
    await page.screenshot({ path: join(ARTIFACTS, 'settings-view.png'), fullPage: true });
    await page.close();
  }, 60_000);

  it('changes the sync folder in Settings: bad paths are refused, the new folder syncs, a restart keeps it', async () => {
    const dir = ownDir('pakit-e2e-settings-');
    const first = ownDir('pakit-e2e-first-');
    const second = ownDir('pakit-e2e-second-');
    writeFileSync(join(second, 'minutes-1999.txt'), 'minutes of 1999');
    let { proc, url: at } = await startServe(['--data', dir, 'serve', '--folder', first, '--port', '0']);
    try {
      let page = await open(at, 'Settings');
      const path = page.getByRole('textbox', { name: 'Sync folder path' });
      await expect.poll(() => path.inputValue()).toBe(first);
      for (const [bad, why] of [
        [join(first, 'missing'), /missing does not exist/],
        [join(dir, 'archive.db'), /archive\.db is not a directory/],
        [dir, /inside the archive's own data directory/],
      ] as const) {
        await path.fill(bad);
        await page.getByRole('button', { name: 'Use this folder' }).click();
        await expect.poll(() => page.getByRole('alert').textContent()).toMatch(why);
      }
      expect(existsSync(join(dir, 'settings.json'))).toBe(false);
      await path.fill(second);
      await page.getByRole('button', { name: 'Use this folder' }).click();
      await expect.poll(() => page.getByRole('status').filter({ hasText: 'Now syncing' }).count()).toBe(1);
      await page.screenshot({ path: join(ARTIFACTS, 'settings-folder.png'), fullPage: true });
      // The status bar and the Files view follow; a file written now arrives through the new watcher's events.
      await expect.poll(() => page.getByRole('status', { name: 'Node status' }).textContent()).toMatch(/Up to date/);
      await page.getByRole('navigation', { name: 'Views' }).getByRole('button', { name: 'Files' }).click();
      const files = page.getByRole('listbox', { name: 'Files in the sync folder' }).getByRole('option');
      await expect
        .poll(() => files.allTextContents(), { timeout: 10_000 })
        .toEqual([expect.stringContaining('minutes-1999.txt')]);
      writeFileSync(join(second, 'minutes-2000.txt'), 'minutes of 2000');
      await expect.poll(() => files.count(), { timeout: 10_000 }).toBe(2);
      await page.close();
      await stopServe(proc);

      // Restarted without --folder: the folder chosen in Settings.
      ({ proc, url: at } = await startServe(['--data', dir, 'serve', '--port', '0']));
      page = await open(at, 'Settings');
      await expect.poll(() => page.getByRole('textbox', { name: 'Sync folder path' }).inputValue()).toBe(second);
      await page.close();
    } finally {
      await stopServe(proc);
    }
  }, 90_000);

  it('does no work while the window is hidden, and catches up when it is shown', async () => {
    const page = await browser.newPage();
    // Count the bridge calls the page makes.
    await page.addInitScript(() => {
      const w = globalThis as unknown as { __calls: number };
      w.__calls = 0;
      const send = WebSocket.prototype.send;
      WebSocket.prototype.send = function (this: WebSocket, data) {
        w.__calls++;
        send.call(this, data);
      };
    });
    await page.goto(url);
    const list = page.getByRole('listbox', { name: 'Files in the sync folder' });
    await list.getByRole('option').first().waitFor();
    const setHidden = (hidden: boolean) =>
      page.evaluate((h) => {
        Object.defineProperty(document, 'hidden', { configurable: true, get: () => h });
        Object.defineProperty(document, 'visibilityState', {
          configurable: true,
          get: () => (h ? 'hidden' : 'visible'),
        });
        document.dispatchEvent(new Event('visibilitychange'));
      }, hidden);
    const calls = () => page.evaluate(() => (globalThis as unknown as { __calls: number }).__calls);

    await setHidden(true);
    const before = await calls();
    writeFileSync(join(folder, 'while-hidden.txt'), 'written while the window was hidden');
    // The node syncs it (and pushes its status) while the page stays still.
    await expect
      .poll(() => pakit(['--data', data, 'versions', join(folder, 'while-hidden.txt')]).code, { timeout: 10_000 })
      .toBe(0);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await calls()).toBe(before);
    expect(await list.getByRole('option').filter({ hasText: 'while-hidden.txt' }).count()).toBe(0);

    await setHidden(false);
    await list.getByRole('option').filter({ hasText: 'while-hidden.txt' }).waitFor({ timeout: 10_000 });
    expect(await calls()).toBeGreaterThan(before);
    await page.close();
  }, 60_000);

  it('browses the sync folder as a tree: folders with their file counts, a breadcrumb, Enter and Backspace', async () => {
    for (const [rel, text] of [
      ['deeds/1962/lot-12.txt', 'lot 12'],
      ['deeds/1962/lot-13.txt', 'lot 13'],
      ['deeds/index.txt', 'index of deeds'],
    ]) {
      mkdirSync(dirname(join(folder, rel)), { recursive: true });
      writeFileSync(join(folder, rel), text);
    }
    await expect
      .poll(() => pakit(['--data', data, 'versions', join(folder, 'deeds/index.txt')]).code, { timeout: 15_000 })
      .toBe(0);
    const page = await open();
    const list = page.getByRole('listbox', { name: 'Files in the sync folder' });
    const deeds = list.getByRole('option', { name: 'Folder deeds, 3 files' });
    await deeds.waitFor({ timeout: 10_000 });
    await deeds.click();
    const crumbs = page.getByRole('navigation', { name: 'Folder path' });
    await expect.poll(() => crumbs.textContent()).toMatch(/Sync folder\s*\/\s*deeds/);
    await expect
      .poll(() => list.getByRole('option').allTextContents())
      .toEqual([expect.stringMatching(/^📁 1962\/.*2 files$/), expect.stringMatching(/^index\.txt/)]);
    expect(await page.getByText('1 folder and 1 file here').count()).toBe(1);
    // Keyboard: Home selects the first entry, Enter opens it, a file's history shows, Backspace goes up.
    await list.focus();
    await page.keyboard.press('Home');
    await page.keyboard.press('Enter');
    await expect
      .poll(() => list.getByRole('option').allTextContents())
      .toEqual([expect.stringMatching(/^lot-12\.txt/), expect.stringMatching(/^lot-13\.txt/)]);
    await page.keyboard.press('Home');
    await expect.poll(() => page.getByRole('heading', { name: 'History of deeds/1962/lot-12.txt' }).count()).toBe(1);
    await page.screenshot({ path: join(ARTIFACTS, 'files-tree.png'), fullPage: true });
    await page.keyboard.press('Backspace');
    await expect.poll(() => crumbs.getByRole('button').allTextContents()).toEqual(['Sync folder', 'deeds']);
    await crumbs.getByRole('button', { name: 'Sync folder' }).click();
    await deeds.waitFor();

    // A folder of more than a page: End while the scroll to the end is still fetching the last
    // page waits for that same fetch, and shows the last file's history.
    mkdirSync(join(folder, 'ledger'));
    for (let i = 0; i < 230; i++)
      writeFileSync(join(folder, 'ledger', `entry-${String(i).padStart(3, '0')}.txt`), `${i}`);
    const ledger = list.getByRole('option', { name: 'Folder ledger, 230 files' });
    await ledger.waitFor({ timeout: 15_000 });
    await ledger.click();
    await list.getByRole('option').filter({ hasText: 'entry-000.txt' }).waitFor();
    await endWhileScrollingToEnd(list);
    await expect.poll(() => page.getByRole('heading', { name: 'History of ledger/entry-229.txt' }).count()).toBe(1);
    await crumbs.getByRole('button', { name: 'Sync folder' }).click();
    await deeds.waitFor();

    // All files: every path, flat.
    await page.getByRole('radio', { name: 'All files' }).check();
    await list.getByRole('option').filter({ hasText: 'deeds/1962/lot-13.txt' }).waitFor();
    await page.close();
  }, 60_000);

  it('does not connect with a wrong token, and says so', async () => {
    const page = await open(url.replace(/token=[0-9a-f]+/, `token=${'0'.repeat(64)}`));
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/could not connect/);
    await page.close();
  });
});

describe('chain anchoring in the served UI (a real Substrate runtime)', () => {
  let chain: LocalChain;
  let node: ChildProcess;
  let at = '';
  beforeAll(async () => {
    chain = await startLocalChain();
    const d = ownDir('pakit-e2e-chain-');
    ({ proc: node, url: at } = await startServe(
      ['--data', d, 'serve', '--port', '0', '--chain', chain.endpoint, '--anchor-blocks', '1000'],
      { PAKIT_SURI: '//Alice' },
    ));
  }, 60_000);
  afterAll(async () => {
    if (node) await stopServe(node);
    await chain?.close();
  });

  it('anchor now → the Anchors list; the proof is verified against the chain in the renderer', async () => {
    const page = await open(at, 'Archive');
    const file = join(tempDir(), 'minutes-1962.txt');
    writeFileSync(file, prose(20_000, 9));
    await page.getByLabel('Choose files to archive').setInputFiles(file);
    const hash = (await page.getByTestId('receipt-hash').textContent())!;

    await page.getByRole('navigation', { name: 'Views' }).getByRole('button', { name: 'Anchors' }).click();
    await expect.poll(() => page.getByTestId('chain-state').textContent()).toMatch(/Up to date\. +Chain/);
    await page.getByRole('button', { name: 'Anchor now' }).click();
    const row = page.getByTestId('anchor-row').first();
    await expect.poll(() => row.textContent(), { timeout: 20_000 }).toMatch(/anchored\s*#\d+-\d+/);
    expect(await row.textContent()).toMatch(/\d{4}-\d\d-\d\dT.*\d{5,}/); // the block's time and the fee
    await page.screenshot({ path: join(ARTIFACTS, 'anchors-view.png'), fullPage: true });

    await page.getByRole('navigation', { name: 'Views' }).getByRole('button', { name: 'Proofs' }).click();
    await page.getByLabel('Object or block hash').fill(hash);
    await page.getByRole('button', { name: 'Build proof' }).click();
    await expect
      .poll(() => page.getByTestId('anchor-verdict').textContent(), { timeout: 20_000 })
      .toMatch(/Anchor verified on the chain/);
    expect(await page.getByTestId('verdict').textContent()).toMatch(/^\s*Valid/);
    const steps = page.getByRole('list', { name: 'Verification steps' });
    expect(await steps.textContent()).toMatch(/✓ anchor: checkpoint size \d+.*✓ chain: finalized block #\d+/s);
    await page.screenshot({ path: join(ARTIFACTS, 'proofs-view-anchored.png'), fullPage: true });

    // The same proof with its receipt pointing at another block: the renderer says why it fails.
    const href = (await page.getByRole('link', { name: 'Export proof' }).getAttribute('href'))!;
    const doc = JSON.parse(decodeURIComponent(href.slice(href.indexOf(',') + 1))) as {
      anchor: { receipt: { blockNumber: number } };
    };
    doc.anchor.receipt.blockNumber += 1000;
    const tampered = join(tempDir(), 'tampered.json');
    writeFileSync(tampered, JSON.stringify(doc));
    await page.getByLabel('Import a proof file').setInputFiles(tampered);
    await expect
      .poll(() => page.getByTestId('verdict').textContent(), { timeout: 20_000 })
      .toMatch(/Invalid: chain: the chain has no block #\d+/);
    await page.close();
  }, 90_000);

  it('Settings: chain settings shown, a bad endpoint refused by name, anchoring turned off', async () => {
    const page = await open(at, 'Settings');
    const form = page.getByRole('form', { name: 'Chain anchoring' });
    await expect.poll(() => form.getByLabel('Chain endpoint').inputValue()).toBe(chain.endpoint);
    expect(await form.textContent()).toMatch(/Signer: 0xd43593c715fdd31c61141abd/);
    await form.getByLabel('Chain endpoint').fill('http://127.0.0.1:9944');
    await form.getByRole('button', { name: 'Save chain settings' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/must start with ws:\/\/ or wss:\/\//);
    await page.screenshot({ path: join(ARTIFACTS, 'settings-chain.png'), fullPage: true });

    await form.getByLabel('Chain endpoint').fill(chain.endpoint);
    await form.getByLabel('Anchor checkpoints on a chain').uncheck();
    await form.getByRole('button', { name: 'Save chain settings' }).click();
    await expect.poll(() => page.getByRole('status').filter({ hasText: 'Anchoring is off' }).count()).toBe(1);
    await page.getByRole('navigation', { name: 'Views' }).getByRole('button', { name: 'Anchors' }).click();
    await expect.poll(() => page.getByTestId('chain-state').textContent()).toMatch(/Anchoring is off/);
    expect(await page.getByRole('button', { name: 'Anchor now' }).isDisabled()).toBe(true);
    await page.close();
  }, 60_000);
});
