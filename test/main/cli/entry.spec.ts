import { mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../helpers/tmp.js';
import { pakit, ROOT } from '../../helpers/cli.js';

// bin/entry.js is plain JavaScript beside the launcher (no types to check).
const { cliEntry } = (await import(pathToFileURL(join(ROOT, 'bin', 'entry.js')).href)) as {
  cliEntry: (root?: URL) => URL;
};

/** A repository layout with the given files, each modified at the given second. */
function layout(files: Record<string, number>): URL {
  const root = tempDir();
  for (const [path, second] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), '');
    utimesSync(join(root, path), second, second);
  }
  return pathToFileURL(`${root}/`);
}

const BUNDLE = 'dist/cli/main.js';
const COMPILED = 'dist/main/cli/main.js';
const MAIN = 'dist/.tsbuild/main.tsbuildinfo';
const SHARED = 'dist/.tsbuild/shared.tsbuildinfo';

describe('the launcher (bin/pakit.js)', () => {
  it('runs the bundle while it is newer than tsc’s last build, the compiled modules otherwise', () => {
    const pick = (files: Record<string, number>): string => {
      const root = layout(files);
      return cliEntry(root).href.slice(root.href.length);
    };
    expect(pick({ [BUNDLE]: 2_000, [MAIN]: 1_000, [SHARED]: 1_000 })).toBe(BUNDLE);
    // tsc rebuilt main or shared since: the bundle holds older code.
    expect(pick({ [BUNDLE]: 2_000, [MAIN]: 3_000, [SHARED]: 1_000 })).toBe(COMPILED);
    expect(pick({ [BUNDLE]: 2_000, [MAIN]: 1_000, [SHARED]: 3_000 })).toBe(COMPILED);
    // Never bundled (or the bundle removed).
    expect(pick({ [MAIN]: 1_000, [SHARED]: 1_000 })).toBe(COMPILED);
  });

  it('runs the bundle of this checkout, which stores and reads back as the compiled CLI does', () => {
    // The suite's setup bundles after building, as `npm run build` does.
    expect(cliEntry().href).toBe(pathToFileURL(join(ROOT, BUNDLE)).href);
    const dir = tempDir();
    const data = tempDir();
    writeFileSync(join(dir, 'a.txt'), 'bundled\n'.repeat(1000));
    const stored = pakit(['--data', data, 'store', dir]);
    expect(stored.code, stored.stderr).toBe(0);
    const hash = stored.stdout.split('\n')[0]!.split('  ')[0]!;
    const got = pakit(['--data', data, 'get', hash]);
    expect(got.stdout).toBe('bundled\n'.repeat(1000));
    expect(pakit(['--data', data, 'check']).code).toBe(0);
  });
});
