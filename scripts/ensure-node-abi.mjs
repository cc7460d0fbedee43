// `npm start` rebuilds better-sqlite3 for Electron's ABI (electron-builder install-app-deps); the
// tests and the CLI run on Node. If the native module no longer loads in Node, rebuild it for Node.
import { execSync } from 'node:child_process';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
try {
  const Database = require('better-sqlite3');
  new Database(':memory:').close();
} catch (e) {
  if (!/NODE_MODULE_VERSION|was compiled against a different Node\.js version/.test(String(e))) throw e;
  process.stderr.write('better-sqlite3 is built for Electron; rebuilding it for Node (about a minute)…\n');
  execSync('npm rebuild better-sqlite3', { stdio: 'inherit' });
}
