// Which build of the CLI bin/pakit.js runs: the bundle (dist/cli/, scripts/bundle-cli.mjs) while it
// is newer than tsc's last build of the code it was made from, else the compiled modules
// (dist/main/): after a developer's `npx tsc -b` the bundle would run yesterday's code.
import { statSync } from 'node:fs';

const mtime = (root, path) => statSync(new URL(path, root), { throwIfNoEntry: false })?.mtimeMs;

/** The CLI module to import, as a URL, for the repository at `root` (a directory URL). */
export function cliEntry(root = new URL('..', import.meta.url)) {
  const bundle = mtime(root, 'dist/cli/main.js');
  const built = ['dist/.tsbuild/main.tsbuildinfo', 'dist/.tsbuild/shared.tsbuildinfo'].map((p) => mtime(root, p) ?? 0);
  return new URL(
    bundle !== undefined && bundle >= Math.max(...built) ? 'dist/cli/main.js' : 'dist/main/cli/main.js',
    root,
  );
}
