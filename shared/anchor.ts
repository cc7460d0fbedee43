/**
 * Chain anchors (docs/FORMATS.md "Anchors"): what Pakit writes on a Substrate chain for a signed
 * checkpoint, the receipt it keeps, and the pure comparison of a receipt with what a chain says.
 * Reading the chain is main's job (main/chain); judging what was read happens here, so the CLI,
 * the renderer and an auditor's own tool all apply exactly the same rules.
 */
import { FieldWriter, fromHex, toHex, utf8 } from './bytes.js';
import { type CheckpointJson, type SignedCheckpoint, checkpointFromJson, checkpointMessage } from './checkpoint.js';
import type { Sha256 } from './hash.js';

/** Domain tag of {@link signedCheckpointHash}. */
export const SIGNED_CHECKPOINT_DOMAIN = 'pakit/signed-checkpoint/v1';
/** First word of the remark text. */
export const ANCHOR_TAG = 'pakit-anchor/v1';
/** The default call: a remark that also emits `system.Remarked`. */
export const DEFAULT_ANCHOR_CALL = 'system.remarkWithEvent';

/**
 * The values a call's positional arguments may be mapped to: the whole remark text, or one of its
 * parts (for a pallet with typed arguments, such as a storage-proof pallet).
 */
export const ANCHOR_ARGS = ['remark', 'archive', 'size', 'root', 'checkpoint'] as const;
export type AnchorArg = (typeof ANCHOR_ARGS)[number];

/** Where a checkpoint was anchored. Chain hashes are 0x-prefixed lowercase hex, as Substrate prints them. */
export interface AnchorReceipt {
  /** The chain's genesis block hash. */
  readonly chain: string;
  /** The hash of the (finalized) block that holds the extrinsic. */
  readonly block: string;
  readonly blockNumber: number;
  /** Position of the extrinsic in the block. */
  readonly extrinsicIndex: number;
  /** The signer's account id (not an SS58 string: the same account prints differently per chain). */
  readonly signer: string;
  /** `section.method` of the call, e.g. `system.remarkWithEvent`. */
  readonly call: string;
  /** What each positional argument of the call carries. */
  readonly args: readonly AnchorArg[];
}

/** The anchor part of a `pakit-proof`: the anchored checkpoint, how it extends the proof's, and the receipt. */
export interface ProofAnchor {
  /** The anchored checkpoint: the first one anchored whose log covers the proven block. */
  readonly checkpoint: SignedCheckpoint;
  /** RFC 9162 consistency proof from the proof's checkpoint to the anchored one (empty when they are the same). */
  readonly consistency: readonly Uint8Array[];
  readonly receipt: AnchorReceipt;
}

export interface ProofAnchorJson {
  checkpoint: CheckpointJson;
  consistency: string[];
  receipt: AnchorReceipt;
}

export class AnchorFormatError extends Error {
  override readonly name = 'AnchorFormatError';
  readonly code = 'ERR_ANCHOR_FORMAT';
}

/** SHA-256 over the checkpoint's signed message and its signature: the checkpoint exactly as signed. */
export function signedCheckpointHash(cp: SignedCheckpoint, hash: Sha256): Uint8Array {
  return hash(
    new FieldWriter().string(SIGNED_CHECKPOINT_DOMAIN).bytes(checkpointMessage(cp)).bytes(cp.signature).finish(),
  );
}

/**
 * The remark written on the chain, readable in any block explorer:
 * `pakit-anchor/v1 archive=<hex> size=<n> root=<hex> checkpoint=<hex>`.
 */
export function anchorRemark(cp: SignedCheckpoint, hash: Sha256): string {
  return (
    `${ANCHOR_TAG} archive=${toHex(cp.archive)} size=${cp.size} root=${toHex(cp.root)} ` +
    `checkpoint=${toHex(signedCheckpointHash(cp, hash))}`
  );
}

/** One argument as the chain holds it: raw bytes (Bytes, H256, [u8; N]) or an integer. */
export type ArgValue = { readonly bytes: string } | { readonly integer: string };

/** The value argument `arg` must carry for checkpoint `cp`; bytes as 0x-prefixed hex, integers in decimal. */
export function anchorArgValue(arg: AnchorArg, cp: SignedCheckpoint, hash: Sha256): ArgValue {
  switch (arg) {
    case 'remark':
      return { bytes: `0x${toHex(utf8(anchorRemark(cp, hash)))}` };
    case 'archive':
      return { bytes: `0x${toHex(cp.archive)}` };
    case 'size':
      return { integer: String(cp.size) };
    case 'root':
      return { bytes: `0x${toHex(cp.root)}` };
    case 'checkpoint':
      return { bytes: `0x${toHex(signedCheckpointHash(cp, hash))}` };
  }
}

const CHAIN_HASH = /^0x[0-9a-f]{64}$/;
const ACCOUNT = /^0x(?:[0-9a-f]{40}|[0-9a-f]{64})$/;
const CALL = /^[a-z][A-Za-z0-9]*\.[a-z][A-Za-z0-9]*$/;
const RECEIPT_KEYS = ['chain', 'block', 'blockNumber', 'extrinsicIndex', 'signer', 'call', 'args'] as const;

/** Parses `section.method` and a comma-separated argument mapping, as the CLI and Settings take them. */
export function parseCallSpec(call: string, args: string | readonly string[]): { call: string; args: AnchorArg[] } {
  if (!CALL.test(call)) throw new AnchorFormatError(`call must look like section.method, not ${JSON.stringify(call)}`);
  const list = typeof args === 'string' ? args.split(',').map((a) => a.trim()) : [...args];
  if (list.length === 0 || list.length > 8) throw new AnchorFormatError('a call takes 1 to 8 mapped arguments');
  for (const a of list)
    if (!(ANCHOR_ARGS as readonly string[]).includes(a))
      throw new AnchorFormatError(`unknown argument ${JSON.stringify(a)}: use ${ANCHOR_ARGS.join(', ')}`);
  return { call, args: list as AnchorArg[] };
}

/** Strict parse of a receipt (unknown keys, wrong types and non-canonical hex are errors naming the field). */
export function receiptFromJson(v: unknown, where = 'receipt'): AnchorReceipt {
  const fail = (msg: string): never => {
    throw new AnchorFormatError(`${where}: ${msg}`);
  };
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail('must be an object');
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!(RECEIPT_KEYS as readonly string[]).includes(k)) fail(`unknown field ${k}`);
  for (const k of RECEIPT_KEYS) if (!Object.hasOwn(o, k)) fail(`missing field ${k}`);
  const hex = (k: 'chain' | 'block'): string =>
    typeof o[k] === 'string' && CHAIN_HASH.test(o[k]) ? o[k] : fail(`${k} must be 0x and 64 lowercase hex digits`);
  const nat = (k: 'blockNumber' | 'extrinsicIndex'): number => {
    const n = o[k];
    return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 ? n : fail(`${k} must be a non-negative integer`);
  };
  const signer =
    typeof o.signer === 'string' && ACCOUNT.test(o.signer)
      ? o.signer
      : fail('signer must be an account id: 0x and 40 or 64 lowercase hex digits');
  const call = typeof o.call === 'string' && CALL.test(o.call) ? o.call : fail('call must be section.method');
  if (!Array.isArray(o.args) || o.args.length === 0 || o.args.length > 8) fail('args must list 1 to 8 arguments');
  const args = (o.args as unknown[]).map((a, i) =>
    typeof a === 'string' && (ANCHOR_ARGS as readonly string[]).includes(a)
      ? (a as AnchorArg)
      : fail(`args[${i}] must be one of ${ANCHOR_ARGS.join(', ')}`),
  );
  return {
    chain: hex('chain'),
    block: hex('block'),
    blockNumber: nat('blockNumber'),
    extrinsicIndex: nat('extrinsicIndex'),
    signer,
    call,
    args,
  };
}

/** Strict parse of a proof's `anchor` object. */
export function proofAnchorFromJson(v: unknown, maxPath: number): ProofAnchor {
  const fail = (msg: string): never => {
    throw new AnchorFormatError(`anchor${msg}`);
  };
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(': must be an object');
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o))
    if (!['checkpoint', 'consistency', 'receipt'].includes(k)) fail(`: unknown field ${k}`);
  for (const k of ['checkpoint', 'consistency', 'receipt']) if (!Object.hasOwn(o, k)) fail(`: missing field ${k}`);
  let checkpoint: SignedCheckpoint;
  try {
    checkpoint = checkpointFromJson(o.checkpoint, 'anchor.checkpoint');
  } catch (e) {
    throw new AnchorFormatError((e as Error).message);
  }
  if (!Array.isArray(o.consistency)) fail('.consistency: must be an array');
  const path = o.consistency as unknown[];
  if (path.length > maxPath) fail(`.consistency: has ${path.length} entries, more than ${maxPath}`);
  const consistency = path.map((h, i) =>
    typeof h === 'string' && /^[0-9a-f]{64}$/.test(h)
      ? fromHex(h)!
      : fail(`.consistency[${i}]: must be 64 lowercase hex digits`),
  );
  return { checkpoint, consistency, receipt: receiptFromJson(o.receipt, 'anchor.receipt') };
}

/**
 * What a chain node says about a receipt's block, read by main/chain. Every field is what the chain
 * returned; nothing is copied from the receipt.
 */
export interface ChainFacts {
  /** The endpoint that was asked (for messages only). */
  readonly endpoint: string;
  readonly genesisHash: string;
  /** The block number and extrinsic index these facts describe (the receipt's, if the reader did its job). */
  readonly blockNumber: number;
  readonly extrinsicIndex: number;
  /** The canonical block hash at `blockNumber`, or null when the chain is not that long. */
  readonly blockHash: string | null;
  readonly finalizedNumber: number;
  /** The block's timestamp (ms), from its `timestamp.set` inherent, when it has one. */
  readonly timestamp: number | null;
  /** The extrinsic at `extrinsicIndex` in that block, or null when there is none. */
  readonly extrinsic: {
    /** Account id of the signer, or null for an unsigned extrinsic. */
    readonly signer: string | null;
    readonly call: string;
    readonly args: readonly ArgValue[];
    /** Whether it dispatched successfully; null when the node could not say (pruned state). */
    readonly success: boolean | null;
  } | null;
}

/** Reads a receipt's block from a chain (main/chain implements it with @polkadot/api). */
export interface ChainReader {
  readAnchor(receipt: AnchorReceipt): Promise<ChainFacts>;
}

function sameArg(a: ArgValue, b: ArgValue): boolean {
  if ('bytes' in a && 'bytes' in b) return a.bytes === b.bytes;
  if ('integer' in a && 'integer' in b) return a.integer === b.integer;
  return false;
}

function showArg(a: ArgValue): string {
  const s = 'bytes' in a ? a.bytes : a.integer;
  return s.length > 80 ? `${s.slice(0, 80)}…` : s;
}

/**
 * Compares a receipt, and the checkpoint it must carry, with what the chain says. Returns the first
 * thing that does not match, or undefined when the chain holds exactly this anchor, finalized,
 * signed by `expectedSigner` (an account id; default: the receipt's own signer).
 */
export function anchorMismatch(
  receipt: AnchorReceipt,
  cp: SignedCheckpoint,
  facts: ChainFacts,
  hash: Sha256,
  expectedSigner?: string,
): string | undefined {
  const r = receipt;
  if (facts.blockNumber !== r.blockNumber || facts.extrinsicIndex !== r.extrinsicIndex)
    return `the chain was read at extrinsic ${facts.blockNumber}-${facts.extrinsicIndex}, not ${r.blockNumber}-${r.extrinsicIndex}`;
  if (facts.genesisHash !== r.chain)
    return `the chain at ${facts.endpoint} has genesis ${facts.genesisHash}, the receipt names chain ${r.chain}`;
  if (facts.blockHash === null) return `the chain has no block #${r.blockNumber}`;
  if (facts.blockHash !== r.block)
    return `block #${r.blockNumber} on the chain is ${facts.blockHash}, the receipt names ${r.block}`;
  if (r.blockNumber > facts.finalizedNumber)
    return `block #${r.blockNumber} is not finalized (finalized head #${facts.finalizedNumber})`;
  const x = facts.extrinsic;
  if (!x) return `block #${r.blockNumber} has no extrinsic ${r.extrinsicIndex}`;
  const where = `extrinsic ${r.blockNumber}-${r.extrinsicIndex}`;
  if (x.signer === null) return `${where} is not signed`;
  if (x.signer !== r.signer) return `${where} is signed by ${x.signer}, the receipt names ${r.signer}`;
  if (expectedSigner !== undefined && x.signer !== expectedSigner.toLowerCase())
    return `${where} is signed by ${x.signer}, not by the expected account ${expectedSigner}`;
  if (x.call !== r.call) return `${where} calls ${x.call}, the receipt names ${r.call}`;
  if (x.args.length !== r.args.length)
    return `${where} has ${x.args.length} argument(s), the receipt maps ${r.args.length}`;
  for (let i = 0; i < r.args.length; i++) {
    const want = anchorArgValue(r.args[i]!, cp, hash);
    if (!sameArg(x.args[i]!, want))
      return `${where} argument ${i} is ${showArg(x.args[i]!)}, not this checkpoint's ${r.args[i]} (${showArg(want)})`;
  }
  if (x.success === false) return `${where} failed to dispatch`;
  return undefined;
}
