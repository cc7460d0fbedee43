// The `pakit` program (bin/pakit.js imports this module). Logic lives in run.ts so tests can call it.
import { run } from './run.js';

process.exitCode = await run(process.argv.slice(2));
