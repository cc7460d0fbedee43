// The `pakit` program (bin/pakit.js imports this module). Logic lives in run.ts so tests can call it.
import { flushOut } from './io.js';
import { run } from './run.js';

const code = await run(process.argv.slice(2));
process.exitCode = code;
// The command has closed what it opened. Leaving through process.exit skips freeing the JavaScript
// heap region by region, which the kernel does at once at exit: after a store of the bench corpus
// that teardown was 70 ms of munmap between the archive's close and the end of the process. Only
// with nothing queued on stdout or stderr (a pipe is asynchronous on some platforms); otherwise the
// process ends once they have drained, as before.
flushOut();
if (process.stdout.writableLength === 0 && process.stderr.writableLength === 0) process.exit(code);
