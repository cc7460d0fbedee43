import type { SignedCheckpoint } from '../../shared/checkpoint.js';
import { inclusionPath, leafHash, multiInclusionNodes, subtreeOfLeafHashes } from '../../shared/merkle.js';
import {
  makeConsistencyProof,
  makeMultiProof,
  makeProofBundle,
  type ConsistencyProofJson,
  type MultiProofJson,
  type ProofBundleJson,
} from '../../shared/proof-bundle.js';
import { inSnapshot } from '../db/database.js';
import { MerkleLog } from '../log/merkle-log.js';
import { nodeSha256 } from '../util/sha256.js';
import type { ProofAnchor } from '../../shared/anchor.js';
import { AnchorStore } from './anchors.js';
import { checkpointAt, firstCheckpointCovering, latestCheckpoint, makeCheckpoint } from './checkpoints.js';
import { getBlock, type ArchiveContext } from './context.js';
import { NoCheckpointError } from './errors.js';

export interface ProofOptions {
  /** Also prove chunk N of the object against its content root. */
  readonly chunk?: number;
  /** Also include a path of headers from the block to genesis. */
  readonly toGenesis?: boolean;
}

const readerLogs = new WeakMap<ArchiveContext, MerkleLog>();

/** The block log: the writer's own, or a reader's view refreshed when it is behind. */
export function logOf(ctx: ArchiveContext, atLeast = 0): MerkleLog {
  if (ctx.writer) return ctx.writer.log;
  let log = readerLogs.get(ctx);
  if (!log) readerLogs.set(ctx, (log = new MerkleLog(ctx.db)));
  if (log.size < atLeast) log.reload();
  return log;
}

/**
 * The checkpoint a proof is made against: the newest, signed now if the block is newer than every
 * checkpoint and the archive is open for writing.
 */
function checkpointCovering(ctx: ArchiveContext, seq: number): SignedCheckpoint {
  const latest = latestCheckpoint(ctx);
  if (latest && latest.size > seq) return latest;
  if (ctx.writer) return makeCheckpoint(ctx);
  throw new NoCheckpointError(
    `no checkpoint covers block ${seq} yet; run \`pakit checkpoint\` (or wait for the writer to make one)`,
  );
}

/**
 * The anchor a proof of leaf `seq` carries: the first anchored checkpoint that covers it, and the
 * consistency path to it from the first checkpoint that covers it (which the proof is made against).
 */
function anchorCovering(ctx: ArchiveContext, seq: number): { cp: SignedCheckpoint; anchor: ProofAnchor } | undefined {
  const row = new AnchorStore(ctx.db).firstAnchoredCovering(seq);
  if (!row?.receipt) return undefined;
  const anchored = checkpointAt(ctx, row.size)!;
  const cp = firstCheckpointCovering(ctx, seq)!;
  const log = logOf(ctx, anchored.size);
  const consistency = cp.size === anchored.size ? [] : log.consistencyPath(cp.size, anchored.size);
  return { cp, anchor: { checkpoint: anchored, consistency, receipt: row.receipt } };
}

/** All of a proof's reads see one committed state, in one read transaction (see inSnapshot). */
export function buildProof(ctx: ArchiveContext, hash: string | Uint8Array, opts: ProofOptions = {}): ProofBundleJson {
  return inSnapshot(ctx.db, () => proofOf(ctx, hash, opts));
}

function proofOf(ctx: ArchiveContext, hash: string | Uint8Array, opts: ProofOptions): ProofBundleJson {
  const b = getBlock(ctx, hash);
  const anchored = anchorCovering(ctx, b.seq);
  const cp = anchored?.cp ?? checkpointCovering(ctx, b.seq);
  const log = logOf(ctx, cp.size);
  let chunk;
  if (opts.chunk !== undefined) {
    const n = b.header.chunkCount;
    if (!Number.isSafeInteger(opts.chunk) || opts.chunk < 0 || opts.chunk >= n)
      throw new RangeError(`chunk ${opts.chunk} does not exist: the object has ${n} chunk(s)`);
    const ids = ctx.db
      .prepare('SELECT c.id FROM object_chunks o JOIN chunks c ON c.rid = o.chunk WHERE o.seq = ? ORDER BY o.idx')
      .pluck()
      .all(b.seq) as Buffer[];
    const leaves = ids.map((id) => leafHash(id, nodeSha256));
    chunk = {
      index: opts.chunk,
      id: ids[opts.chunk]!,
      path: inclusionPath(opts.chunk, n, subtreeOfLeafHashes(leaves, nodeSha256)),
    };
  }
  const ancestry = opts.toGenesis
    ? ctx.index
        .pathToGenesis(b.seq)
        .filter((r) => r.header.kind !== 'genesis')
        .map((r) => r.header)
    : undefined;
  return makeProofBundle(
    {
      genesis: ctx.genesis.header,
      block: b.header,
      leafIndex: b.seq,
      inclusion: log.inclusionPath(b.seq, cp.size),
      checkpoint: cp,
      chunk,
      ancestry,
      ...(anchored ? { anchor: anchored.anchor } : {}),
    },
    nodeSha256,
  );
}

/** One compressed proof for several objects against one checkpoint (shared nodes sent once). */
export function buildMultiProof(ctx: ArchiveContext, hashes: readonly (string | Uint8Array)[]): MultiProofJson {
  return inSnapshot(ctx.db, () => multiProofOf(ctx, hashes));
}

function multiProofOf(ctx: ArchiveContext, hashes: readonly (string | Uint8Array)[]): MultiProofJson {
  const blocks = hashes.map((h) => getBlock(ctx, h));
  const seqs = [...new Set(blocks.map((b) => b.seq))];
  const cp = checkpointCovering(ctx, Math.max(...seqs));
  const log = logOf(ctx, cp.size);
  const unique = seqs.map((s) => blocks.find((b) => b.seq === s)!);
  return makeMultiProof(
    {
      genesis: ctx.genesis.header,
      checkpoint: cp,
      blocks: unique.map((b) => ({ leafIndex: b.seq, block: b.header })),
      nodes: multiInclusionNodes(seqs, cp.size, log.subtree),
    },
    nodeSha256,
  );
}

/** Proof that the checkpoint at `toSize` (default: newest) extends the one at `fromSize`. */
export function buildConsistency(ctx: ArchiveContext, fromSize: number, toSize?: number): ConsistencyProofJson {
  return inSnapshot(ctx.db, () => consistencyOf(ctx, fromSize, toSize));
}

function consistencyOf(ctx: ArchiveContext, fromSize: number, toSize?: number): ConsistencyProofJson {
  const from = checkpointAt(ctx, fromSize);
  if (!from) throw new NoCheckpointError(`no checkpoint at log size ${fromSize}`);
  const to = toSize === undefined ? latestCheckpoint(ctx) : checkpointAt(ctx, toSize);
  if (!to) throw new NoCheckpointError(`no checkpoint at log size ${toSize}`);
  if (to.size < from.size) throw new RangeError(`checkpoint ${to.size} is older than ${from.size}`);
  const log = logOf(ctx, to.size);
  return makeConsistencyProof({ genesis: ctx.genesis.header, from, to, path: log.consistencyPath(from.size, to.size) });
}
