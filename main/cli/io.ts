/** Output helpers: commands write results to stdout and diagnostics to stderr, nothing else. */
export interface Io {
  out(line: string): void;
  err(line: string): void;
  readonly stdout: NodeJS.WritableStream;
  readonly stdin: NodeJS.ReadableStream;
}

/**
 * Lines to stdout are gathered and written in pieces of up to 64 KiB (or after 50 ms): a store of
 * 35,000 files otherwise pays one write syscall per printed hash. stderr and binary output flush
 * what is pending first, so the order on a terminal stays right.
 */
let pending = '';
let timer: NodeJS.Timeout | undefined;
/** Set once the reader of stdout has gone (`pakit ls | head`): later lines are dropped. */
let readerGone = false;
function flushOut(): void {
  if (timer) clearTimeout(timer);
  timer = undefined;
  if (pending && !readerGone) process.stdout.write(pending);
  pending = '';
}
process.on('exit', flushOut);
// A closed pipe is not the command's failure: what was asked still runs to its end (a store still
// commits every file), it just has no one to tell. Anything else on stdout stays an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code !== 'EPIPE') throw e;
  readerGone = true;
});

export const processIo: Io = {
  out: (l) => {
    if (readerGone) return;
    pending += `${l}\n`;
    if (pending.length >= 65536) flushOut();
    else timer ??= setTimeout(flushOut, 50);
  },
  err: (l) => {
    flushOut();
    process.stderr.write(`${l}\n`);
  },
  get stdout() {
    flushOut();
    return process.stdout;
  },
  stdin: process.stdin,
};

export { flushOut };

/** Exit codes of the CLI contract. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** Resolves on the first SIGINT or SIGTERM: long-running commands then shut down in order. */
export function untilStopped(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}
