#!/usr/bin/env node
// Thin launcher: the CLI is compiled (and bundled) into dist/ by `npm install` (the `prepare` script).
import { cliEntry } from './entry.js';

import(cliEntry().href).catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND') {
    process.stderr.write('pakit: not built yet — run `npm install` (or `npm run build`) in the repository first\n');
    process.exit(2);
  }
  throw err;
});
