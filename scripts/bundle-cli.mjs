// Bundles the CLI and the worker scripts it starts into dist/cli/ (`npm run build` runs this after
// tsc): one module to load per command instead of ~80 small ones, whose resolving, reading and
// linking took ~70 ms of every command's start on the bench machine. Packages stay imports of
// node_modules (better-sqlite3 and zstd-napi find their native parts from there). bin/pakit.js
// runs the bundle only while it is newer than tsc's last build (entry.js).
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'rolldown';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = `${root}dist/cli`;
rmSync(out, { recursive: true, force: true });
await build({
  cwd: root,
  input: {
    // The names the code looks its workers up by, beside the module that starts them (prestart.ts,
    // wal-checkpointer.ts, identity-index.ts, restore-tree.ts).
    main: `${root}dist/main/cli/main.js`,
    'ingest-worker': `${root}dist/main/store/ingest-worker.js`,
    'wal-checkpoint-worker': `${root}dist/main/db/wal-checkpoint-worker.js`,
    'identity-worker': `${root}dist/main/dag/identity-worker.js`,
    'restore-worker': `${root}dist/main/archive/restore-worker.js`,
  },
  platform: 'node',
  external: (id) => !id.startsWith('.') && !id.startsWith('/'),
  logLevel: 'warn',
  output: { dir: out, format: 'esm', entryFileNames: '[name].js', chunkFileNames: '[name]-[hash].js' },
});
