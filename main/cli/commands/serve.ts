import { PakitNode } from '../../app/pakit-node.js';
import { BridgeServer, isLoopback } from '../../serve/bridge-server.js';
import { parseArgs, UsageError } from '../args.js';
import { SIGNER_FLAGS, callFromFlags, endpointFromFlags, signerFromFlags } from './anchor.js';
import { EXIT, untilStopped, type Io } from '../io.js';
import { existsSync } from 'node:fs';
import { join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The built renderer, dist/renderer (npm install builds it), found from where this module runs:
 * dist/main/cli/commands/ compiled, dist/cli/ bundled; from its source (tests), the renderer's.
 */
function rendererDir(): string | undefined {
  const here = fileURLToPath(import.meta.url);
  const dist = here.lastIndexOf(`${sep}dist${sep}`);
  const dir =
    dist >= 0
      ? join(here.slice(0, dist), 'dist', 'renderer')
      : fileURLToPath(new URL('../../../renderer', import.meta.url));
  return existsSync(dir) ? dir : undefined;
}

export const serveHelp = `pakit serve [--folder DIR] [--port N] [--host ADDR]
            [--chain URL (--suri SURI | --keystore FILE) [--anchor-every MIN] [--anchor-blocks N] [--call C --args A]]
  Runs the node (the archive, and DIR as its sync folder) with the app's interface over HTTP and
  its IPC contract over a WebSocket. Prints the address to open, with its access token. Binds to
  127.0.0.1 unless --host says otherwise; --port 0 (the default) picks a free port. Without
  --folder, the folder last chosen in the app's Settings (kept in the data directory) is synced.
  With --chain, checkpoints are anchored every MIN minutes (default 10) or N new blocks (default
  1000), whichever comes first; while the chain is unreachable they wait and are retried. Without
  it, the chain settings saved in Settings apply (the signer then comes from $PAKIT_SURI,
  --suri/--keystore, or Settings).`;

export async function serveCommand(dir: string, argv: string[], io: Io): Promise<number> {
  const { positional, flags } = parseArgs(argv, {
    folder: 'string',
    port: 'number',
    host: 'string',
    ...SIGNER_FLAGS,
    'anchor-every': 'number',
    'anchor-blocks': 'number',
  });
  if (positional.length > 0) throw new UsageError('serve takes no arguments (the folder goes in --folder)');
  if (typeof flags.port === 'number' && flags.port > 65535) throw new UsageError('--port must be at most 65535');
  const host = typeof flags.host === 'string' ? flags.host : '127.0.0.1';
  for (const f of ['anchor-every', 'anchor-blocks', 'call', 'args'])
    if (flags[f] !== undefined && flags.chain === undefined) throw new UsageError(`--${f} needs --chain URL`);
  if (flags['anchor-every'] === 0 || flags['anchor-blocks'] === 0)
    throw new UsageError('--anchor-every and --anchor-blocks must be at least 1');
  let chain;
  if (flags.chain !== undefined) {
    const call = callFromFlags(flags);
    chain = {
      endpoint: endpointFromFlags(flags),
      call: call.call,
      args: call.args,
      ...(flags['anchor-every'] ? { everyMinutes: flags['anchor-every'] as number } : {}),
      ...(flags['anchor-blocks'] ? { everyBlocks: flags['anchor-blocks'] as number } : {}),
    };
  }
  const hasSigner = flags.suri !== undefined || flags.keystore !== undefined || !!process.env.PAKIT_SURI;
  const signer = hasSigner ? await signerFromFlags(flags) : undefined;
  const node = await PakitNode.start({
    dataDir: dir,
    ...(typeof flags.folder === 'string' ? { folder: flags.folder } : {}),
    ...(chain ? { chain } : {}),
    ...(signer ? { signer } : {}),
  });
  let server: BridgeServer | undefined;
  try {
    server = await BridgeServer.start({
      node,
      host,
      port: typeof flags.port === 'number' ? flags.port : 0,
      staticDir: rendererDir(),
    });
    if (!isLoopback(host))
      io.err(
        `pakit: warning: listening on ${host}, reachable from other machines; anyone with the token controls this node`,
      );
    if (node.folderProblem) io.err(`pakit: warning: ${node.folderProblem}`);
    if (node.chain.status().state === 'no-signer')
      io.err('pakit: warning: anchoring is on but there is no signer (--suri, --keystore, $PAKIT_SURI or Settings)');
    io.out(server.url);
    await untilStopped();
    return EXIT.ok;
  } finally {
    await server?.close();
    await node.stop();
  }
}
