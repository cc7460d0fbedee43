/**
 * Strict parsers for the three proof documents of docs/FORMATS.md. A proof is evidence handed to
 * someone who does not trust its producer, so nothing in it is decorative: unknown or missing keys,
 * wrong types, non-canonical hex, out-of-range numbers and oversized arrays are all errors, each
 * naming the field (as a path such as `ancestry[2].parents[0]`).
 *
 * Parsing checks shape only; whether the pieces fit together is verify.ts's job.
 */
import { type BlockHeader, headerFromJson } from './block-header.js';
import { fromHex, isHash32Hex } from './bytes.js';
import { type ProofAnchor, proofAnchorFromJson } from './anchor.js';
import { type SignedCheckpoint, checkpointFromJson } from './checkpoint.js';
import type { ChunkProof, ConsistencyProof, MultiProof, MultiProofBlock, ProofBundle } from './proof-bundle.js';

export const PROOF_FORMAT = 'pakit-proof';
export const MULTIPROOF_FORMAT = 'pakit-multiproof';
export const CONSISTENCY_FORMAT = 'pakit-consistency';
/** The only document version this code reads or writes. */
export const PROOF_VERSION = 1;

/**
 * Longest audit or consistency path accepted. Logs and content trees hold fewer than 2^53 leaves,
 * so a genuine path never has more than 54 entries; 64 leaves slack without allowing junk.
 */
export const MAX_PATH_LENGTH = 64;
/** Most ancestry headers accepted (a shortest path to genesis is far shorter in practice). */
export const MAX_ANCESTRY = 100_000;
/** Most blocks one multiproof may prove. */
export const MAX_MULTIPROOF_BLOCKS = 100_000;

/** A proof document does not have the shape docs/FORMATS.md requires. */
export class ProofFormatError extends Error {
  override readonly name = 'ProofFormatError';
  readonly code = 'ERR_PROOF_FORMAT';
}

type Json = Record<string, unknown>;

const fail = (where: string, msg: string): never => {
  throw new ProofFormatError(where ? `${where}: ${msg}` : msg);
};

/** Quotes a key for an error message without letting a hostile 10 MB key into the text. */
function quote(k: string): string {
  return JSON.stringify(k.length > 40 ? `${k.slice(0, 40)}…` : k);
}

function object(v: unknown, where: string): Json {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(where, 'must be an object');
  return v as Json;
}

/** Exactly `required` plus any of `optional`; own keys only, so a prototype cannot supply a field. */
function exactKeys(o: Json, required: readonly string[], optional: readonly string[], where: string): void {
  for (const k of Object.keys(o))
    if (!required.includes(k) && !optional.includes(k)) fail(where, `unknown field ${quote(k)}`);
  for (const k of required) if (!Object.hasOwn(o, k)) fail(where, `missing field ${k}`);
}

const field = (where: string, k: string): string => (where ? `${where}.${k}` : k);

function nat(v: unknown, where: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
    fail(where, 'must be a non-negative integer below 2^53');
  return v as number;
}

function hash32(v: unknown, where: string): Uint8Array {
  if (!isHash32Hex(v)) fail(where, 'must be 64 lowercase hex digits');
  return fromHex(v as string)!;
}

function array(v: unknown, max: number, where: string): unknown[] {
  if (!Array.isArray(v)) fail(where, 'must be an array');
  const a = v as unknown[];
  if (a.length > max) fail(where, `has ${a.length} entries, more than ${max}`);
  return a;
}

function hashList(v: unknown, max: number, where: string): Uint8Array[] {
  return array(v, max, where).map((h, i) => hash32(h, `${where}[${i}]`));
}

// The header and checkpoint parsers throw their own error classes; one parse error type is simpler
// for callers, and their messages already carry the field path.
function header(v: unknown, where: string): BlockHeader {
  try {
    return headerFromJson(v, where);
  } catch (e) {
    if (e instanceof ProofFormatError) throw e;
    throw new ProofFormatError(e instanceof Error ? e.message : `${where}: invalid header`);
  }
}

function checkpoint(v: unknown, where: string): SignedCheckpoint {
  try {
    return checkpointFromJson(v, where);
  } catch (e) {
    if (e instanceof ProofFormatError) throw e;
    throw new ProofFormatError(e instanceof Error ? e.message : `${where}: invalid checkpoint`);
  }
}

/** Checks the document's top level: an object of the expected format and version with exactly these keys. */
function envelope(v: unknown, format: string, required: readonly string[], optional: readonly string[]): Json {
  const o = object(v, 'document');
  if (!Object.hasOwn(o, 'format')) fail('', 'missing field format');
  if (o.format !== format) {
    const got = typeof o.format === 'string' ? quote(o.format) : typeof o.format;
    fail('', `format is ${got}, expected "${format}"`);
  }
  if (!Object.hasOwn(o, 'version')) fail('', 'missing field version');
  if (o.version !== PROOF_VERSION) fail('', `unsupported version (only ${PROOF_VERSION} is defined)`);
  exactKeys(o, ['format', 'version', ...required], optional, '');
  return o;
}

function chunkProof(v: unknown, where: string): ChunkProof {
  const o = object(v, where);
  exactKeys(o, ['index', 'id', 'path'], [], where);
  return {
    index: nat(o.index, field(where, 'index')),
    id: hash32(o.id, field(where, 'id')),
    path: hashList(o.path, MAX_PATH_LENGTH, field(where, 'path')),
  };
}

/** Parses a `pakit-proof` v1 document (already JSON-decoded). Throws {@link ProofFormatError}. */
export function parseProofBundle(v: unknown): ProofBundle {
  const o = envelope(
    v,
    PROOF_FORMAT,
    ['genesis', 'block', 'hash', 'leafIndex', 'inclusion', 'checkpoint'],
    ['chunk', 'ancestry', 'anchor'],
  );
  const bundle: ProofBundle = {
    genesis: header(o.genesis, 'genesis'),
    block: header(o.block, 'block'),
    hash: hash32(o.hash, 'hash'),
    leafIndex: nat(o.leafIndex, 'leafIndex'),
    inclusion: hashList(o.inclusion, MAX_PATH_LENGTH, 'inclusion'),
    checkpoint: checkpoint(o.checkpoint, 'checkpoint'),
  };
  const extra: { chunk?: ChunkProof; ancestry?: BlockHeader[]; anchor?: ProofAnchor } = {};
  if (Object.hasOwn(o, 'chunk')) extra.chunk = chunkProof(o.chunk, 'chunk');
  if (Object.hasOwn(o, 'ancestry'))
    extra.ancestry = array(o.ancestry, MAX_ANCESTRY, 'ancestry').map((h, i) => header(h, `ancestry[${i}]`));
  if (Object.hasOwn(o, 'anchor')) {
    try {
      extra.anchor = proofAnchorFromJson(o.anchor, MAX_PATH_LENGTH);
    } catch (e) {
      throw new ProofFormatError(e instanceof Error ? e.message : 'anchor: invalid');
    }
  }
  return { ...bundle, ...extra };
}

/** Parses a `pakit-multiproof` v1 document. Throws {@link ProofFormatError}. */
export function parseMultiProof(v: unknown): MultiProof {
  const o = envelope(v, MULTIPROOF_FORMAT, ['genesis', 'checkpoint', 'blocks', 'nodes'], []);
  const genesis = header(o.genesis, 'genesis');
  const cp = checkpoint(o.checkpoint, 'checkpoint');
  const entries = array(o.blocks, MAX_MULTIPROOF_BLOCKS, 'blocks');
  if (entries.length === 0) fail('blocks', 'must prove at least one block');
  const blocks: MultiProofBlock[] = entries.map((e, i) => {
    const where = `blocks[${i}]`;
    const b = object(e, where);
    exactKeys(b, ['leafIndex', 'hash', 'block'], [], where);
    return {
      leafIndex: nat(b.leafIndex, `${where}.leafIndex`),
      hash: hash32(b.hash, `${where}.hash`),
      block: header(b.block, `${where}.block`),
    };
  });
  for (let i = 1; i < blocks.length; i++)
    if (blocks[i - 1]!.leafIndex >= blocks[i]!.leafIndex)
      fail(`blocks[${i}].leafIndex`, 'blocks must be sorted by leafIndex, each leaf once');
  // Every node is the root of a subtree beside some proven leaf's path, so a tree below 2^53 leaves
  // never needs more than MAX_PATH_LENGTH nodes per proven block.
  const nodes = hashList(o.nodes, blocks.length * MAX_PATH_LENGTH, 'nodes');
  return { genesis, checkpoint: cp, blocks, nodes };
}

/** Parses a `pakit-consistency` v1 document. Throws {@link ProofFormatError}. */
export function parseConsistencyProof(v: unknown): ConsistencyProof {
  const o = envelope(v, CONSISTENCY_FORMAT, ['genesis', 'from', 'to', 'path'], []);
  return {
    genesis: header(o.genesis, 'genesis'),
    from: checkpoint(o.from, 'from'),
    to: checkpoint(o.to, 'to'),
    path: hashList(o.path, MAX_PATH_LENGTH, 'path'),
  };
}
