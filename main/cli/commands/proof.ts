import { readFileSync } from 'node:fs';
import { Archive } from '../../archive/archive.js';
import { buildConsistency, buildMultiProof } from '../../archive/proofs.js';
import { type VerifyResult, verifyAny, verifyProofOnChain } from '../../../shared/verify.js';
import { accountIdOf, endpointFromFlags } from './anchor.js';
import { nodeSha256 } from '../../util/sha256.js';
import { parseArgs, UsageError } from '../args.js';
import { EXIT, type Io } from '../io.js';

export const proofHelp = `pakit proof HASH [--chunk N] [--to-genesis]
pakit proof HASH HASH...          one compressed multi-object proof
pakit proof --consistency FROM [--to SIZE]
  Prints a self-contained JSON proof bundle that \`pakit verify\` (or anyone) checks offline.`;

export async function proofCommand(dir: string, argv: string[], io: Io): Promise<number> {
  const { positional, flags } = parseArgs(argv, {
    chunk: 'number',
    'to-genesis': 'boolean',
    consistency: 'number',
    to: 'number',
  });
  // Proofs may need a fresh checkpoint, which takes the writer lock; fall back to reading.
  const archive = await Archive.open({ dir }).catch((e: unknown) => {
    if ((e as Error).name === 'ArchiveBusyError') return Archive.open({ dir, readonly: true });
    throw e;
  });
  try {
    let doc: unknown;
    if (flags.consistency !== undefined) {
      if (positional.length) throw new UsageError('--consistency takes no HASH');
      doc = buildConsistency(archive.ctx, flags.consistency as number, flags.to as number | undefined);
    } else if (positional.length === 0) {
      throw new UsageError('proof needs a HASH');
    } else if (positional.length > 1) {
      if (flags.chunk !== undefined || flags['to-genesis'])
        throw new UsageError('--chunk and --to-genesis prove one object');
      doc = buildMultiProof(archive.ctx, positional);
    } else {
      doc = archive.proof(positional[0]!, {
        chunk: flags.chunk as number | undefined,
        toGenesis: !!flags['to-genesis'],
      });
    }
    io.out(JSON.stringify(doc, null, 2));
    return EXIT.ok;
  } finally {
    await archive.close();
  }
}

export const verifyHelp = `pakit verify FILE|- [--json] [--chain URL [--signer ACCOUNT]]
  Verifies a proof bundle offline. Exit 0 and "valid", or exit 1 and the reason. Offline, a chain
  anchor's receipt is checked as far as it can be and reported as not checked against the chain;
  with --chain the receipt's block is read from that chain and must be final and carry exactly
  this checkpoint, signed by the receipt's account (or by --signer, SS58 or 0x account id).`;

export async function verifyCommand(argv: string[], io: Io): Promise<number> {
  const { positional, flags } = parseArgs(argv, { json: 'boolean', chain: 'string', signer: 'string' });
  if (positional.length !== 1) throw new UsageError('verify needs exactly one FILE (or - for stdin)');
  if (flags.signer !== undefined && flags.chain === undefined) throw new UsageError('--signer needs --chain URL');
  const endpoint = flags.chain === undefined ? undefined : endpointFromFlags(flags);
  const expectedSigner = flags.signer === undefined ? undefined : await accountIdOf(flags.signer as string);
  const src = positional[0]!;
  let text: string;
  if (src === '-') {
    const parts: Buffer[] = [];
    for await (const c of io.stdin) parts.push(Buffer.from(c as Buffer));
    text = Buffer.concat(parts).toString('utf8');
  } else {
    text = readFileSync(src, 'utf8');
  }
  let result: VerifyResult;
  if (endpoint === undefined) result = verifyAny(text, { hash: nodeSha256 });
  else {
    const { ChainClient } = await import('../../chain/chain-client.js');
    const client = await ChainClient.connect(endpoint);
    try {
      result = await verifyProofOnChain(text, client, {
        hash: nodeSha256,
        ...(expectedSigner ? { expectedSigner } : {}),
      });
    } finally {
      await client.close();
    }
  }
  if (flags.json) io.out(JSON.stringify(result, null, 2));
  else {
    for (const s of result.steps) io.out(`${s.ok ? 'ok  ' : 'FAIL'} ${s.step}: ${s.detail}`);
    io.out(result.valid ? 'valid' : `invalid: ${result.reason}`);
  }
  return result.valid ? EXIT.ok : EXIT.failed;
}
