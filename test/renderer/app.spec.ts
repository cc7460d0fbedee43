import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pakit, pakitAsync, ROOT } from '../helpers/cli.js';
import { prose } from '../helpers/files.js';
import { tempDir } from '../helpers/tmp.js';

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
  serve = pakitAsync(['--data', data, 'serve', '--folder', folder, '--port', '0']);
  url = await new Promise<string>((resolve, reject) => {
    let out = '';
    serve.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      const m = /http:\/\/127\.0\.0\.1:\d+\/#token=[0-9a-f]{64}/.exec(out);
      if (m) resolve(m[0]);
    });
    serve.once('exit', (code) => reject(new Error(`pakit serve exited with ${code}`)));
  });
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
  if (serve && serve.exitCode === null) {
    serve.kill('SIGTERM');
    await new Promise((r) => serve.once('exit', r));
  }
  for (const d of [data, folder]) if (d) rmSync(d, { recursive: true, force: true });
});

async function open(at = url, view?: 'Files' | 'Archive' | 'DAG' | 'Proofs' | 'Sync' | 'Settings'): Promise<Page> {
  const page = await browser.newPage();
  await page.goto(at);
  if (view) await page.getByRole('navigation', { name: 'Views' }).getByRole('button', { name: view }).click();
  return page;
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

  it('shows the DAG: figures as pakit stats has them, the newest blocks linked to their parents', async () => {
    const page = await open(url, 'DAG');
    const stats = JSON.parse(pakit(['--data', data, 'stats', '--json']).stdout) as { blocks: number; tips: number };
    const figures = page.getByRole('definition');
    await expect.poll(() => figures.first().textContent()).toBe(String(stats.blocks));
    const nodes = page.getByRole('button', { name: /^Block \d+: / });
    await expect.poll(() => nodes.count()).toBe(Math.min(60, stats.blocks));
    expect(await page.locator('svg line').count()).toBeGreaterThan(0);
    await nodes.first().click();
    const details = page.getByRole('definition').filter({ hasText: /^[0-9a-f]{64}$/ });
    const hash = (await details.first().textContent())!;
    expect(pakit(['--data', data, 'ls']).stdout).toContain(hash);
    await page.screenshot({ path: join(ARTIFACTS, 'dag-view.png'), fullPage: true });
    await page.close();
  }, 60_000);

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

  it('does not connect with a wrong token, and says so', async () => {
    const page = await open(url.replace(/token=[0-9a-f]+/, `token=${'0'.repeat(64)}`));
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/could not connect/);
    await page.close();
  });
});
