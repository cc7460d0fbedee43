/**
 * The offline verifier for the proof documents of docs/FORMATS.md. It runs wherever the proof
 * lands — the CLI, the renderer, an auditor's browser — so it is pure TypeScript, and it never
 * throws: every input, however malformed or hostile, gets a {@link VerifyResult} whose `reason`
 * names the first step that failed.
 */
import { type AnchorReceipt, type ChainReader, type ProofAnchor, anchorMismatch } from './anchor.js';
import { type BlockHeader, hashHeader } from './block-header.js';
import { equalBytes, fromHex, toHex } from './bytes.js';
import { type SignedCheckpoint, checkpointMessage, sameCheckpoint } from './checkpoint.js';
import { sha256 as defaultSha256, type Sha256 } from './hash.js';
import { leafHash, rootFromMultiInclusion, verifyConsistency, verifyInclusion } from './merkle.js';
import type { ConsistencyProof, MultiProof, ProofBundle } from './proof-bundle.js';
import {
  CONSISTENCY_FORMAT,
  MULTIPROOF_FORMAT,
  PROOF_FORMAT,
  parseConsistencyProof,
  parseMultiProof,
  parseProofBundle,
} from './proof-parse.js';
import { type SignatureVerifier, cachedVerifier, verifyEd25519 } from './signature-cache.js';
import { StepFailure, Steps, clip, decodeInput, describe, run, type VerifyResult } from './verify-steps.js';

export { type SignatureVerifier, verifyEd25519 } from './signature-cache.js';
export {
  MAX_PROOF_TEXT_BYTES,
  type AnchorVerdict,
  type VerifyResult,
  type VerifyStep,
  type VerifyStepName,
} from './verify-steps.js';

type Kind = typeof PROOF_FORMAT | typeof MULTIPROOF_FORMAT | typeof CONSISTENCY_FORMAT;

export interface VerifyOptions {
  /** SHA-256 implementation; default @noble/hashes. Main passes node:crypto's for speed. */
  readonly hash?: Sha256;
  /** Ed25519 verification; default {@link verifyEd25519}. Also lets tests count signature checks. */
  readonly verifySignature?: SignatureVerifier;
}

/** Everything a verification run shares; a batch shares one signature cache across documents. */
interface Context {
  readonly hash: Sha256;
  readonly signatureValid: SignatureVerifier;
}

function context(options: VerifyOptions | undefined): Context {
  return {
    hash: options?.hash ?? defaultSha256,
    signatureValid: cachedVerifier(options?.verifySignature ?? verifyEd25519),
  };
}

function parseStep<T>(doc: unknown, kind: Kind, parse: (v: unknown) => T, s: Steps): T {
  s.begin('format');
  let parsed: T;
  try {
    parsed = parse(doc);
  } catch (e) {
    throw new StepFailure('format', describe(e));
  }
  s.ok(`well-formed ${kind} version 1`);
  return parsed;
}

/** Genesis checks (FORMATS.md step 2) for every checkpoint that names the archive; returns its hash and key. */
function checkGenesis(
  g: BlockHeader,
  checkpoints: readonly [string, SignedCheckpoint][],
  s: Steps,
  ctx: Context,
): { hash: Uint8Array; publicKey: Uint8Array } {
  s.begin('genesis');
  s.check(g.kind === 'genesis', `genesis has kind ${g.kind}, not genesis`);
  // Fixed at creation (FORMATS.md "Genesis"): anything else is not a genesis this format defines.
  s.check(equalBytes(g.contentRoot, ctx.hash(new Uint8Array(0))), 'genesis contentRoot is not SHA-256("")');
  s.check(g.size === 0 && g.storedSize === 0 && g.chunkCount === 0, 'genesis sizes and chunkCount must be 0');
  s.check(g.codec === 'none', 'genesis codec must be none');
  const pk = Object.hasOwn(g.meta, 'publicKey') ? g.meta.publicKey : undefined;
  s.check(typeof pk === 'string' && /^[0-9a-f]{64}$/.test(pk), 'genesis meta.publicKey is not 64 lowercase hex digits');
  const id = Object.hasOwn(g.meta, 'archiveId') ? g.meta.archiveId : undefined;
  s.check(typeof id === 'string' && /^[0-9a-f]{32}$/.test(id), 'genesis meta.archiveId is not 32 lowercase hex digits');
  const hash = hashHeader(g, ctx.hash);
  for (const [name, cp] of checkpoints)
    s.check(equalBytes(cp.archive, hash), `${name}.archive is not the hash of genesis (${toHex(hash)})`);
  s.ok(`archive ${toHex(hash)}, signing key ${pk!}`);
  return { hash, publicKey: fromHex(pk!)! };
}

function checkSignatures(
  checkpoints: readonly [string, SignedCheckpoint][],
  publicKey: Uint8Array,
  s: Steps,
  ctx: Context,
): void {
  s.begin('signature');
  for (const [name, cp] of checkpoints)
    s.check(
      ctx.signatureValid(cp.signature, checkpointMessage(cp), publicKey),
      `${name}.signature is not a valid Ed25519 signature by the genesis publicKey`,
    );
  const what = checkpoints.map(([name, cp]) => `${name} (size ${cp.size})`).join(' and ');
  s.ok(`${what} signed by the archive key`);
}

/** Hashes `block`, checks it against the claimed hash, and keeps genesis-kind headers to leaf 0. */
function checkHeader(
  block: BlockHeader,
  claimed: Uint8Array,
  where: string,
  genesisHash: Uint8Array,
  ctx: Context,
  s: Steps,
): Uint8Array {
  const h = hashHeader(block, ctx.hash);
  s.check(equalBytes(h, claimed), `hash of ${where}block (${toHex(h)}) does not equal ${where}hash`);
  s.check(
    block.kind !== 'genesis' || equalBytes(h, genesisHash),
    `${where}block is a genesis header but not this archive's genesis`,
  );
  return h;
}

/** Leaf 0 of the log is the genesis block, and only it (FORMATS.md step 5). */
function checkLeafZero(leafIndex: number, hash: Uint8Array, genesisHash: Uint8Array, where: string, s: Steps): void {
  const isGenesis = equalBytes(hash, genesisHash);
  s.check(
    (leafIndex === 0) === isGenesis,
    isGenesis ? `${where}the genesis block must be leaf 0` : `${where}leaf 0 is the genesis block, not this block`,
  );
}

function checkProof(b: ProofBundle, s: Steps, ctx: Context): void {
  const cp = b.checkpoint;
  const g = checkGenesis(b.genesis, [['checkpoint', cp]], s, ctx);

  s.begin('header');
  const h = checkHeader(b.block, b.hash, '', g.hash, ctx, s);
  s.ok(`block ${toHex(h)} (${b.block.kind}, depth ${b.block.depth})`);

  checkSignatures([['checkpoint', cp]], g.publicKey, s, ctx);

  s.begin('inclusion');
  s.check(b.leafIndex < cp.size, `leafIndex ${b.leafIndex} is not below checkpoint size ${cp.size}`);
  checkLeafZero(b.leafIndex, h, g.hash, '', s);
  s.check(
    verifyInclusion(b.leafIndex, cp.size, leafHash(h, ctx.hash), b.inclusion, cp.root, ctx.hash),
    'audit path does not reproduce the checkpoint root',
  );
  s.ok(`leaf ${b.leafIndex} of ${cp.size} reproduces root ${toHex(cp.root)}`);

  if (b.chunk) {
    const c = b.chunk;
    s.begin('chunk');
    const n = b.block.chunkCount;
    s.check(c.index < n, `chunk index ${c.index} is not below the block's chunkCount ${n}`);
    s.check(
      verifyInclusion(c.index, n, leafHash(c.id, ctx.hash), c.path, b.block.contentRoot, ctx.hash),
      "chunk audit path does not reproduce the block's contentRoot",
    );
    s.ok(`chunk ${c.index} of ${n} (id ${toHex(c.id)}) is in contentRoot ${toHex(b.block.contentRoot)}`);
  }

  if (b.ancestry) {
    s.begin('ancestry');
    s.check(b.block.kind !== 'genesis', 'the genesis block has no ancestry');
    let child = b.block;
    let childName = 'block';
    for (let i = 0; i < b.ancestry.length; i++) {
      const a = b.ancestry[i]!;
      const ah = hashHeader(a, ctx.hash);
      s.check(a.kind !== 'genesis', `ancestry[${i}] is a genesis header; genesis itself is not listed`);
      s.check(
        child.parents.some((p) => equalBytes(p, ah)),
        `ancestry[${i}] (${toHex(ah)}) is not a parent of ${childName}`,
      );
      s.check(
        a.depth < child.depth,
        `ancestry[${i}] depth ${a.depth} is not below ${childName}'s depth ${child.depth}`,
      );
      child = a;
      childName = `ancestry[${i}]`;
    }
    s.check(
      child.parents.some((p) => equalBytes(p, g.hash)),
      `genesis is not a parent of ${childName}`,
    );
    s.ok(`${b.ancestry.length} ancestor${b.ancestry.length === 1 ? '' : 's'} link the block to genesis`);
  }

  if (b.anchor) checkAnchorOffline(b.anchor, cp, g.publicKey, g.hash, s, ctx);
}

/**
 * Everything about an anchor that needs no chain: the anchored checkpoint is this archive's, signed
 * by its key, and extends (or is) the checkpoint the block was proven against.
 */
function checkAnchorOffline(
  a: ProofAnchor,
  cp: SignedCheckpoint,
  publicKey: Uint8Array,
  genesisHash: Uint8Array,
  s: Steps,
  ctx: Context,
): void {
  s.begin('anchor');
  const acp = a.checkpoint;
  s.check(equalBytes(acp.archive, genesisHash), 'anchor.checkpoint.archive is not the hash of genesis');
  s.check(
    ctx.signatureValid(acp.signature, checkpointMessage(acp), publicKey),
    'anchor.checkpoint.signature is not a valid Ed25519 signature by the genesis publicKey',
  );
  s.check(acp.size >= cp.size, `anchor.checkpoint size ${acp.size} is below the checkpoint's size ${cp.size}`);
  if (acp.size === cp.size)
    s.check(
      sameCheckpoint(acp, cp) && a.consistency.length === 0,
      'anchor.checkpoint has the size of checkpoint but is not the same checkpoint (or carries a consistency path)',
    );
  else
    s.check(
      verifyConsistency(cp.size, acp.size, cp.root, acp.root, a.consistency, ctx.hash),
      `anchor.consistency does not prove that the log at size ${acp.size} extends the checkpoint's log at size ${cp.size}`,
    );
  const r = a.receipt;
  s.anchor = 'unchecked';
  s.ok(
    `checkpoint size ${acp.size} (covers the block) has a receipt: block #${r.blockNumber} (${r.block}), ` +
      `extrinsic ${r.extrinsicIndex}, chain ${r.chain}; not checked against the chain (verify with --chain URL)`,
  );
}

function checkMultiProof(m: MultiProof, s: Steps, ctx: Context): void {
  const cp = m.checkpoint;
  const g = checkGenesis(m.genesis, [['checkpoint', cp]], s, ctx);

  s.begin('header');
  const leaves = new Map<number, Uint8Array>();
  m.blocks.forEach((b, i) => {
    const h = checkHeader(b.block, b.hash, `blocks[${i}].`, g.hash, ctx, s);
    leaves.set(b.leafIndex, leafHash(h, ctx.hash));
  });
  s.ok(`${m.blocks.length} block hash${m.blocks.length === 1 ? '' : 'es'} match their headers`);

  checkSignatures([['checkpoint', cp]], g.publicKey, s, ctx);

  s.begin('inclusion');
  m.blocks.forEach((b, i) => {
    s.check(b.leafIndex < cp.size, `blocks[${i}].leafIndex ${b.leafIndex} is not below checkpoint size ${cp.size}`);
    checkLeafZero(b.leafIndex, b.hash, g.hash, `blocks[${i}]: `, s);
  });
  const root = rootFromMultiInclusion(leaves, cp.size, m.nodes, ctx.hash);
  s.check(root !== undefined, `nodes do not fit the proven leaves in a log of ${cp.size} (too few or too many)`);
  s.check(equalBytes(root!, cp.root), 'proven leaves and nodes do not reproduce the checkpoint root');
  s.ok(`${m.blocks.length} leaves of ${cp.size} reproduce root ${toHex(cp.root)} with ${m.nodes.length} nodes`);
}

function checkConsistency(c: ConsistencyProof, s: Steps, ctx: Context): void {
  const cps: [string, SignedCheckpoint][] = [
    ['from', c.from],
    ['to', c.to],
  ];
  const g = checkGenesis(c.genesis, cps, s, ctx);
  checkSignatures(cps, g.publicKey, s, ctx);

  s.begin('consistency');
  s.check(c.from.size <= c.to.size, `from.size ${c.from.size} is greater than to.size ${c.to.size}`);
  s.check(
    verifyConsistency(c.from.size, c.to.size, c.from.root, c.to.root, c.path, ctx.hash),
    `path does not prove that the log at size ${c.to.size} extends the log at size ${c.from.size}`,
  );
  s.ok(`the log at size ${c.to.size} extends the log at size ${c.from.size}`);
}

function verifyDecoded(kind: Kind, doc: unknown, s: Steps, ctx: Context): void {
  switch (kind) {
    case PROOF_FORMAT:
      return checkProof(parseStep(doc, kind, parseProofBundle, s), s, ctx);
    case MULTIPROOF_FORMAT:
      return checkMultiProof(parseStep(doc, kind, parseMultiProof, s), s, ctx);
    case CONSISTENCY_FORMAT:
      return checkConsistency(parseStep(doc, kind, parseConsistencyProof, s), s, ctx);
    default: {
      const never: never = kind;
      throw new Error(`unhandled format ${String(never)}`);
    }
  }
}

function verifyOne(kind: Kind, input: unknown, ctx: Context): VerifyResult {
  return run(kind, (s) => {
    const doc = decodeInput(input, s);
    verifyDecoded(kind, doc, s, ctx);
  });
}

function verifyAnyWith(input: unknown, ctx: Context): VerifyResult {
  return run('unknown', (s) => {
    const doc = decodeInput(input, s);
    const o = typeof doc === 'object' && doc !== null && !Array.isArray(doc) ? (doc as Record<string, unknown>) : {};
    const f = Object.hasOwn(o, 'format') ? o.format : undefined;
    const kind = ([PROOF_FORMAT, MULTIPROOF_FORMAT, CONSISTENCY_FORMAT] as const).find((k) => k === f);
    s.check(
      kind !== undefined,
      `not a Pakit proof: format must be "${PROOF_FORMAT}", "${MULTIPROOF_FORMAT}" or "${CONSISTENCY_FORMAT}"`,
    );
    s.format = kind!;
    verifyDecoded(kind!, doc, s, ctx);
  });
}

/** Verifies a `pakit-proof` document given as JSON text, UTF-8 bytes or an already-parsed value. Never throws. */
export function verifyProof(input: unknown, options?: VerifyOptions): VerifyResult {
  return verifyOne(PROOF_FORMAT, input, context(options));
}

export interface ChainVerifyOptions extends VerifyOptions {
  /** The account id (0x hex) that must have signed the anchor; default: the receipt's signer. */
  readonly expectedSigner?: string;
}

/**
 * Verifies a `pakit-proof` document and then its anchor on a chain: the receipt's block must be
 * final on the chain `reader` reads, and its extrinsic must carry exactly the anchored checkpoint,
 * signed by the expected account. A document without an anchor fails: the chain was asked for.
 */
export async function verifyProofOnChain(
  input: unknown,
  reader: ChainReader,
  options?: ChainVerifyOptions,
): Promise<VerifyResult> {
  const ctx = context(options);
  let anchor: ProofAnchor | undefined;
  const offline = run(PROOF_FORMAT, (s) => {
    const doc = decodeInput(input, s);
    const b = parseStep(doc, PROOF_FORMAT, parseProofBundle, s);
    checkProof(b, s, ctx);
    s.begin('anchor');
    s.check(b.anchor !== undefined, 'the proof carries no anchor receipt, so there is nothing to check on the chain');
    anchor = b.anchor;
  });
  if (!offline.valid || !anchor) return offline;
  const a = anchor;
  const fail = (detail: string): VerifyResult => {
    const d = clip(detail);
    return {
      ...offline,
      valid: false,
      reason: `chain: ${d}`,
      steps: [...offline.steps, { step: 'chain', ok: false, detail: d }],
    };
  };
  let facts;
  try {
    facts = await reader.readAnchor(a.receipt);
  } catch (e) {
    return fail(`could not read the chain: ${describe(e)}`);
  }
  const problem = anchorMismatch(a.receipt, a.checkpoint, facts, ctx.hash, options?.expectedSigner);
  if (problem !== undefined) return fail(problem);
  return {
    ...offline,
    anchor: 'verified',
    steps: [...offline.steps, { step: 'chain', ok: true, detail: chainDetail(a.receipt, facts.timestamp, a) }],
  };
}

function chainDetail(r: AnchorReceipt, timestamp: number | null, a: ProofAnchor): string {
  const when = timestamp === null ? '' : ` at ${new Date(timestamp).toISOString()}`;
  return (
    `finalized block #${r.blockNumber} (${r.block}) of chain ${r.chain}${when} carries checkpoint size ` +
    `${a.checkpoint.size} in ${r.call}, signed by ${r.signer}`
  );
}

/** Verifies a `pakit-multiproof` document. Never throws. */
export function verifyMultiProof(input: unknown, options?: VerifyOptions): VerifyResult {
  return verifyOne(MULTIPROOF_FORMAT, input, context(options));
}

/** Verifies a `pakit-consistency` document. Never throws. */
export function verifyConsistencyProof(input: unknown, options?: VerifyOptions): VerifyResult {
  return verifyOne(CONSISTENCY_FORMAT, input, context(options));
}

/** Verifies any of the three documents, chosen by its `format` field. Never throws. */
export function verifyAny(input: unknown, options?: VerifyOptions): VerifyResult {
  return verifyAnyWith(input, context(options));
}

/**
 * Verifies many documents of any format. Bundles from one archive usually share a checkpoint, so
 * each distinct (public key, signed message, signature) is checked once and its verdict reused.
 * Results are in input order. Never throws.
 */
export function verifyBatch(inputs: readonly unknown[], options?: VerifyOptions): VerifyResult[] {
  const ctx = context(options);
  const out: VerifyResult[] = [];
  for (let i = 0; i < inputs.length; i++) out.push(verifyAnyWith(inputs[i], ctx));
  return out;
}
