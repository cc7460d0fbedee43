// @polkadot/api takes over a second to import: it is loaded only by the commands that talk to a chain.
import { DEFAULT_ANCHOR_CALL, parseCallSpec } from '../../../shared/anchor.js';
import { Archive } from '../../archive/archive.js';
import { AnchorStore, anchorJson } from '../../archive/anchors.js';
import type { CallSpec } from '../../chain/chain-client.js';
import { checkEndpoint } from '../../chain/endpoint.js';
import type { Signer, SignerSpec } from '../../chain/signer.js';
import { parseArgs, UsageError, type Parsed } from '../args.js';
import { EXIT, type Io } from '../io.js';

export const anchorHelp = `pakit anchor --chain URL (--suri SURI | --keystore FILE) [--call SECTION.METHOD --args A,B] [--json]
  Checkpoints the log and anchors the checkpoint on a Substrate chain now (one extrinsic, default
  system.remarkWithEvent); prints the receipt once the block is final. The secret URI may come from
  $PAKIT_SURI; a keystore's password from $PAKIT_KEYSTORE_PASSWORD, else a prompt. --args maps the
  call's arguments to remark, archive, size, root or checkpoint. If the chain cannot be reached the
  checkpoint stays queued (exit 1); \`pakit serve --chain\` retries it.`;

export const anchorsHelp = `pakit anchors [--json]
  The archive's anchors, newest first: checkpoint size, state, block, time and fee.`;

/** Flags every command that signs anchors takes. */
export const SIGNER_FLAGS = {
  chain: 'string',
  suri: 'string',
  keystore: 'string',
  call: 'string',
  args: 'string',
  'anchor-timeout': 'number',
} as const;

/** Reads a password from the terminal without echoing it. */
export async function promptHidden(question: string): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY)
    throw new UsageError('the keystore needs a password: set PAKIT_KEYSTORE_PASSWORD or run in a terminal');
  process.stderr.write(question);
  stdin.setRawMode(true);
  stdin.resume();
  try {
    return await new Promise<string>((resolve, reject) => {
      let text = '';
      const onData = (d: Buffer): void => {
        for (const ch of d.toString('utf8')) {
          if (ch === '\r' || ch === '\n') {
            stdin.off('data', onData);
            process.stderr.write('\n');
            return resolve(text);
          }
          if (ch === '\u0003') {
            stdin.off('data', onData);
            return reject(new UsageError('cancelled'));
          }
          text = ch === '\u007f' || ch === '\b' ? text.slice(0, -1) : text + ch;
        }
      };
      stdin.on('data', onData);
    });
  } finally {
    stdin.setRawMode(false);
    stdin.pause();
  }
}

/** The signer the flags (or the environment) name; exactly one of a secret URI and a keystore. */
export async function signerFromFlags(flags: Parsed['flags'], env: NodeJS.ProcessEnv = process.env): Promise<Signer> {
  const suri = (flags.suri as string | undefined) ?? (flags.keystore ? undefined : env.PAKIT_SURI || undefined);
  const keystore = flags.keystore as string | undefined;
  if (suri !== undefined && keystore !== undefined) throw new UsageError('give --suri or --keystore, not both');
  let spec: SignerSpec;
  if (keystore !== undefined) {
    const password = env.PAKIT_KEYSTORE_PASSWORD ?? (await promptHidden(`Password for ${keystore}: `));
    spec = { keystore, password };
  } else if (suri !== undefined) spec = { suri };
  else throw new UsageError('anchoring needs a signer: --suri SURI (or $PAKIT_SURI) or --keystore FILE');
  const { loadSigner } = await import('../../chain/signer.js');
  return loadSigner(spec);
}

export function callFromFlags(flags: Parsed['flags']): CallSpec {
  const call = flags.call as string | undefined;
  const args = flags.args as string | undefined;
  if (call === undefined && args !== undefined) throw new UsageError('--args maps the arguments of --call');
  try {
    return call === undefined ? parseCallSpec(DEFAULT_ANCHOR_CALL, 'remark') : parseCallSpec(call, args ?? 'remark');
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

export function endpointFromFlags(flags: Parsed['flags']): string {
  const chain = flags.chain as string | undefined;
  if (chain === undefined) throw new UsageError('--chain URL is required (ws://HOST:PORT or wss://…)');
  return checkEndpoint(chain);
}

/** An account given as SS58 or 0x hex, as its account id (0x hex). */
export async function accountIdOf(address: string): Promise<string> {
  const [{ u8aToHex }, { decodeAddress }] = await Promise.all([
    import('@polkadot/util'),
    import('@polkadot/util-crypto'),
  ]);
  try {
    return u8aToHex(decodeAddress(address));
  } catch {
    throw new UsageError(`--signer ${JSON.stringify(address)} is not an SS58 address or 0x account id`);
  }
}

export async function anchorCommand(dir: string, argv: string[], io: Io): Promise<number> {
  const { positional, flags } = parseArgs(argv, { ...SIGNER_FLAGS, json: 'boolean' });
  if (positional.length) throw new UsageError('anchor takes no arguments');
  const endpoint = endpointFromFlags(flags);
  const call = callFromFlags(flags);
  const signer = await signerFromFlags(flags);
  const [{ ChainClient }, { Anchorer }] = await Promise.all([
    import('../../chain/chain-client.js'),
    import('../../chain/anchorer.js'),
  ]);
  // A reachable chain is asked first whether it has the call: a wrong call queues nothing. An
  // unreachable one does not stop the checkpoint from being queued (serve retries it).
  const client = await ChainClient.connect(endpoint).catch(() => undefined);
  try {
    client?.checkCall(call);
  } catch (e) {
    await client?.close();
    throw e;
  }
  const archive = await Archive.open({ dir }).catch(async (e: unknown) => {
    await client?.close();
    throw e;
  });
  const timeout = flags['anchor-timeout'] as number | undefined;
  const anchorer = Anchorer.once({
    archive,
    endpoint,
    signer,
    call,
    ...(client ? { client } : {}),
    ...(timeout ? { timeoutMs: timeout * 1000 } : {}),
  });
  try {
    const row = await anchorer.anchorNow();
    if (flags.json) io.out(JSON.stringify(anchorJson(row), null, 2));
    if (row.state !== 'anchored' || !row.receipt) {
      io.err(`pakit: checkpoint ${row.size} is queued, not anchored: ${row.lastError ?? 'unknown error'}`);
      return EXIT.failed;
    }
    if (!flags.json) {
      const r = row.receipt;
      io.out(`anchored checkpoint ${row.size}`);
      io.out(`chain      ${r.chain}`);
      io.out(`block      #${r.blockNumber} ${r.block}`);
      io.out(`extrinsic  ${r.blockNumber}-${r.extrinsicIndex} ${r.call}(${r.args.join(', ')})`);
      io.out(`signer     ${r.signer}`);
      io.out(`fee        ${row.fee}`);
      if (row.chainTime !== null) io.out(`time       ${new Date(row.chainTime).toISOString()}`);
    }
    return EXIT.ok;
  } finally {
    await anchorer.close();
    await archive.close();
  }
}

export async function anchorsCommand(dir: string, argv: string[], io: Io): Promise<number> {
  const { positional, flags } = parseArgs(argv, { json: 'boolean' });
  if (positional.length) throw new UsageError('anchors takes no arguments');
  const archive = await Archive.open({ dir, readonly: true });
  try {
    const rows = new AnchorStore(archive.ctx.db).list();
    if (flags.json) io.out(JSON.stringify(rows.map(anchorJson), null, 2));
    else
      for (const r of rows) {
        const where = r.receipt ? `#${r.receipt.blockNumber} ${r.receipt.block}` : (r.lastError ?? '');
        const when = r.chainTime === null ? '' : new Date(r.chainTime).toISOString();
        io.out(`${r.size}\t${r.state}\t${where}\t${when}\t${r.fee ?? ''}`);
      }
    return EXIT.ok;
  } finally {
    await archive.close();
  }
}
