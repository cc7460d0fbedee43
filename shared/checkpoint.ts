import { FieldWriter, compareBytes, equalBytes, fromHex, isHash32Hex, toHex } from './bytes.js';

/** Domain tag of the signed checkpoint message (see docs/FORMATS.md). */
export const CHECKPOINT_DOMAIN = 'pakit/checkpoint/v1';

/**
 * A signed statement of the archive's block log at one size: "the first `size` blocks of archive
 * `archive` have Merkle root `root`, and the DAG's tips were `tips`".
 */
export interface Checkpoint {
  /** Hash of the archive's genesis block. */
  readonly archive: Uint8Array;
  /** Number of blocks in the log (leaves of the Merkle tree). */
  readonly size: number;
  readonly root: Uint8Array;
  /** DAG tips (blocks without children) at this size, sorted ascending. */
  readonly tips: readonly Uint8Array[];
  readonly timestamp: number;
}

export interface SignedCheckpoint extends Checkpoint {
  /** Ed25519 signature over {@link checkpointMessage}. */
  readonly signature: Uint8Array;
}

export interface CheckpointJson {
  archive: string;
  size: number;
  root: string;
  tips: string[];
  timestamp: number;
  signature: string;
}

export class CheckpointFormatError extends Error {
  override readonly name = 'CheckpointFormatError';
  readonly code = 'ERR_CHECKPOINT_FORMAT';
}

/** The exact bytes the archive key signs. */
export function checkpointMessage(c: Checkpoint): Uint8Array {
  if (c.archive.length !== 32 || c.root.length !== 32)
    throw new CheckpointFormatError('archive and root must be 32 bytes');
  for (let i = 1; i < c.tips.length; i++) {
    if (compareBytes(c.tips[i - 1]!, c.tips[i]!) >= 0)
      throw new CheckpointFormatError('tips must be sorted and unique');
  }
  return new FieldWriter()
    .string(CHECKPOINT_DOMAIN)
    .bytes(c.archive)
    .u64(c.size)
    .bytes(c.root)
    .list(c.tips)
    .u64(c.timestamp)
    .finish();
}

export function checkpointToJson(c: SignedCheckpoint): CheckpointJson {
  return {
    archive: toHex(c.archive),
    size: c.size,
    root: toHex(c.root),
    tips: c.tips.map(toHex),
    timestamp: c.timestamp,
    signature: toHex(c.signature),
  };
}

const CHECKPOINT_KEYS = ['archive', 'size', 'root', 'tips', 'timestamp', 'signature'] as const;

export function checkpointFromJson(j: unknown, where = 'checkpoint'): SignedCheckpoint {
  const fail = (msg: string): never => {
    throw new CheckpointFormatError(`${where}: ${msg}`);
  };
  if (typeof j !== 'object' || j === null || Array.isArray(j)) fail('not an object');
  const o = j as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!(CHECKPOINT_KEYS as readonly string[]).includes(k)) fail(`unknown field ${k}`);
  for (const k of CHECKPOINT_KEYS) if (!(k in o)) fail(`missing field ${k}`);
  const hash = (v: unknown, name: string): Uint8Array => {
    if (!isHash32Hex(v)) fail(`${name} must be 64 lowercase hex digits`);
    return fromHex(v as string)!;
  };
  const num = (k: 'size' | 'timestamp'): number => {
    const v = o[k];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) fail(`${k} must be a non-negative integer`);
    return v as number;
  };
  if (!Array.isArray(o.tips)) fail('tips must be an array');
  const sig = typeof o.signature === 'string' && /^[0-9a-f]{128}$/.test(o.signature) ? fromHex(o.signature) : undefined;
  if (!sig) fail('signature must be 128 lowercase hex digits');
  const tips = (o.tips as unknown[]).map((t, i) => hash(t, `tips[${i}]`));
  for (let i = 1; i < tips.length; i++)
    if (compareBytes(tips[i - 1]!, tips[i]!) >= 0) fail('tips must be sorted and unique');
  const size = num('size');
  if (size < 1) fail('size must be at least 1 (the genesis block)');
  return {
    archive: hash(o.archive, 'archive'),
    size,
    root: hash(o.root, 'root'),
    tips,
    timestamp: num('timestamp'),
    signature: sig!,
  };
}

export function sameCheckpoint(a: SignedCheckpoint, b: SignedCheckpoint): boolean {
  return equalBytes(checkpointMessage(a), checkpointMessage(b)) && equalBytes(a.signature, b.signature);
}
