/**
 * A real Substrate runtime on loopback for tests and the bench: chopsticks in genesis mode with
 * the Rococo Asset Hub chain spec that @substrate/connect-known-chains ships (raw genesis with the
 * runtime wasm), in a child process (chain-process.ts) so that a caller blocked in spawnSync or a
 * busy event loop does not stall the chain. Blocks are built as soon as a transaction arrives and
 * are final at once.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface LocalChain {
  readonly endpoint: string;
  readonly port: number;
  /** Stops the chain (its state is gone; a chain started again on the port has the same genesis). */
  close(): Promise<void>;
}

function script(): string {
  // From dist/bench/ (the bench) or bench/ (tests run the sources): the compiled script either way.
  for (const rel of ['./chain-process.js', '../dist/bench/chain-process.js']) {
    const f = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(f)) return f;
  }
  throw new Error('dist/bench/chain-process.js is missing: run `npm run build` first');
}

/** Starts a chain; `port` 0 picks a free one (pass the old port to bring a stopped chain back). */
export function startLocalChain(opts: { port?: number; fund?: readonly string[] } = {}): Promise<LocalChain> {
  const args = [script(), String(opts.port ?? 0), (opts.fund ?? ['//Alice', '//Bob']).join(',')];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    let out = '';
    const onExit = (code: number | null): void =>
      reject(new Error(`the local chain exited (${code}) before it was up: ${stderr}`));
    child.once('exit', onExit);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl < 0) return;
      child.off('exit', onExit);
      const { endpoint, port } = JSON.parse(out.slice(0, nl)) as { endpoint: string; port: number };
      resolve({
        endpoint,
        port,
        close: async () => {
          if (child.exitCode === null) child.kill('SIGTERM');
          await exited;
        },
      });
    });
  });
}
