import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../helpers/cli.js';
import { tempDir } from '../../helpers/tmp.js';

// electron-builder's own loader and schema check, offline (no Electron download needed).
const require = createRequire(import.meta.url);
const { getConfig, validateConfiguration } = require('app-builder-lib/out/util/config/config') as {
  getConfig(projectDir: string, configPath: string | null, fromOptions: null): Promise<Record<string, unknown>>;
  validateConfiguration(config: unknown, logger: unknown): Promise<void>;
};
const { DebugLogger } = require('builder-util') as { DebugLogger: new (enabled: boolean) => unknown };

describe('electron-builder.yml', () => {
  it('passes electron-builder validation and targets AppImage, deb, nsis and dmg', async () => {
    const config = await getConfig(ROOT, join(ROOT, 'electron-builder.yml'), null);
    await validateConfiguration(config, new DebugLogger(false));
    expect(config).toMatchObject({
      appId: 'org.pakit.app',
      linux: { target: ['AppImage', 'deb'] },
      win: { target: ['nsis'] },
      mac: { target: ['dmg'] },
    });
    // The packaged app starts where package.json says, and ships what it needs.
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { main: string };
    expect(pkg.main).toBe('dist/main/electron/main.js');
    const files = (config.files as { filter: string[] }[]).flatMap((f) => f.filter);
    expect(files).toEqual(expect.arrayContaining(['dist/main/**', 'dist/preload/**', 'dist/renderer/**']));
  });

  it('rejects a configuration with a misspelt key, naming it', async () => {
    const dir = tempDir();
    const broken = readFileSync(join(ROOT, 'electron-builder.yml'), 'utf8').replace('asarUnpack:', 'asarUnpak:');
    writeFileSync(join(dir, 'electron-builder.yml'), broken);
    const config = await getConfig(ROOT, join(dir, 'electron-builder.yml'), null);
    await expect(validateConfiguration(config, new DebugLogger(false))).rejects.toThrow(/asarUnpak/);
  });
});

describe('electron-builder --dir', () => {
  it('packages the app against a stand-in Electron: our code in app.asar, native modules unpacked', () => {
    // Electron's real binaries come from GitHub; a stand-in folder with an `electron` executable
    // is enough to check what electron-builder puts around it.
    const fake = tempDir();
    mkdirSync(join(fake, 'resources'));
    writeFileSync(join(fake, 'electron'), '#!/bin/sh\necho stand-in\n');
    chmodSync(join(fake, 'electron'), 0o755);
    const out = tempDir();
    execFileSync(
      process.execPath,
      [
        require.resolve('electron-builder/cli.js'),
        '--linux',
        '--dir',
        `-c.electronDist=${fake}`,
        // Rebuilding better-sqlite3 for Electron's ABI downloads Electron's headers.
        '-c.npmRebuild=false',
        `-c.directories.output=${out}`,
      ],
      { cwd: ROOT, stdio: 'pipe' },
    );
    const app = join(out, 'linux-unpacked');
    expect(existsSync(join(app, 'pakit'))).toBe(true); // the stand-in, renamed to the product
    const { listPackage } = require('@electron/asar') as { listPackage(p: string, o: object): string[] };
    const files = listPackage(join(app, 'resources', 'app.asar'), {});
    expect(files).toEqual(
      expect.arrayContaining([
        '/package.json',
        '/dist/main/electron/main.js',
        '/dist/preload/index.cjs',
        '/dist/renderer/index.html',
        '/assets/tray-idle.png',
      ]),
    );
    expect(files.some((f) => f.startsWith('/dist/bench/'))).toBe(false);
    expect(files.some((f) => f.endsWith('.map'))).toBe(false);
    for (const native of ['better-sqlite3', 'zstd-napi'])
      expect(existsSync(join(app, 'resources', 'app.asar.unpacked', 'node_modules', native))).toBe(true);
  }, 120_000);
});
