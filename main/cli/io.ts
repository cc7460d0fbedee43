/** Output helpers: commands write results to stdout and diagnostics to stderr, nothing else. */
export interface Io {
  out(line: string): void;
  err(line: string): void;
  readonly stdout: NodeJS.WritableStream;
  readonly stdin: NodeJS.ReadableStream;
}

export const processIo: Io = {
  out: (l) => void process.stdout.write(`${l}\n`),
  err: (l) => void process.stderr.write(`${l}\n`),
  stdout: process.stdout,
  stdin: process.stdin,
};

/** Exit codes of the CLI contract. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;
