#!/usr/bin/env node
// Thin launcher: the CLI is compiled to dist/ by `npm install` (the `prepare` script).
import('../dist/main/cli/main.js').catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND') {
    process.stderr.write('pakit: not built yet — run `npm install` (or `npm run build`) in the repository first\n');
    process.exit(2);
  }
  throw err;
});
