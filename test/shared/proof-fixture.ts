/**
 * A real little archive for the verifier tests, built from shared primitives only: a genesis with a
 * real Ed25519 key, a DAG of a few dozen blocks, the RFC 9162 log over their hashes, signed
 * checkpoints, a content root over random chunk ids, and an ancestry chain — and the three bundles.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { type BlockHeader, hashHeader } from '../../shared/block-header.js';
import { compareBytes, toHex } from '../../shared/bytes.js';
import { type Checkpoint, type SignedCheckpoint, checkpointMessage } from '../../shared/checkpoint.js';
import {
  consistencyPath,
  inclusionPath,
  leafHash,
  merkleRoot,
  multiInclusionNodes,
  rootOfLeafHashes,
  subtreeOfLeafHashes,
} from '../../shared/merkle.js';
import {
  type ConsistencyProofJson,
  type MultiProofJson,
  type ProofBundleJson,
  makeConsistencyProof,
  makeMultiProof,
  makeProofBundle,
} from '../../shared/proof-bundle.js';

export const rnd = (n: number): Uint8Array => crypto.getRandomValues(new Uint8Array(n));
export const sorted = (hs: Uint8Array[]): Uint8Array[] => [...hs].sort(compareBytes);
export const T0 = 1_764_000_000_000;

export function makeGenesis(publicKey: Uint8Array): BlockHeader {
  return {
    version: 1,
    kind: 'genesis',
    parents: [],
    depth: 0,
    timestamp: T0,
    contentRoot: merkleRoot([]),
    size: 0,
    storedSize: 0,
    chunkCount: 0,
    codec: 'none',
    meta: {
      archiveId: toHex(rnd(16)),
      publicKey: toHex(publicKey),
      chunker: 'gear-cdc/1 min=2048 avg=8192 max=65536',
      software: 'pakit 0.1.0',
    },
  };
}

export interface Archive {
  secretKey: Uint8Array;
  genesis: BlockHeader;
  headers: BlockHeader[]; // by leaf index; 0 is genesis
  hashes: Uint8Array[];
  subtree: ReturnType<typeof subtreeOfLeafHashes>;
  target: number; // leaf index of the block the single-block proof is about
  ancestry: BlockHeader[];
  chunkIds: Uint8Array[];
  checkpoint(size: number, secretKey?: Uint8Array): SignedCheckpoint;
}

/**
 * Blocks alternate between a "chain" (each links the previous chain block and side blocks only, so no
 * chain block skips to a later one or to genesis) and "side" blocks that link anything earlier. The
 * ancestry of the last chain block is then the only path through the chain: drop any link and it breaks.
 */
export function buildArchive(blockCount = 40): Archive {
  const secretKey = ed25519.utils.randomSecretKey();
  const genesis = makeGenesis(ed25519.getPublicKey(secretKey));
  const headers: BlockHeader[] = [genesis];
  const hashes: Uint8Array[] = [hashHeader(genesis)];
  const chain: number[] = [];
  const side: number[] = [];
  const chunkIds = Array.from({ length: 13 }, () => rnd(32));
  const pick = (from: number[], k: number): number[] => [...from].sort(() => Math.random() - 0.5).slice(0, k);
  for (let i = 1; i <= blockCount; i++) {
    const isChain = i === 1 || i % 4 === 1;
    const parentIdx =
      i === 1
        ? [0] // the first block's only possible parent is genesis
        : isChain
          ? [chain[chain.length - 1]!, ...pick(side, 1 + (i % 3))]
          : pick([...Array(i).keys()], Math.min(i, 2 + (i % 3)));
    const isTarget = isChain && i + 4 > blockCount;
    const h: BlockHeader = {
      version: 1,
      kind: isTarget ? 'file' : (['file', 'snapshot', 'symlink'] as const)[i % 3]!,
      parents: sorted(parentIdx.map((p) => hashes[p]!)),
      depth: 1 + Math.max(...parentIdx.map((p) => headers[p]!.depth)),
      timestamp: T0 + i * 1000,
      contentRoot: isTarget ? merkleRoot(chunkIds) : rnd(32),
      size: isTarget ? 13 * 8192 : i * 100,
      storedSize: isTarget ? 40_000 : i * 50,
      chunkCount: isTarget ? chunkIds.length : 1 + (i % 5),
      codec: 'zstd-3',
      meta: { name: `records/deed-${i}.pdf`, mode: '100644', mtime: String(T0 + i) },
    };
    headers.push(h);
    hashes.push(hashHeader(h));
    (isChain ? chain : side).push(i);
  }
  const target = chain[chain.length - 1]!;
  const ancestry = chain
    .slice(0, -1)
    .reverse()
    .map((i) => headers[i]!);
  const leafHashes = hashes.map((h) => leafHash(h));
  const checkpoint = (size: number, sk = secretKey): SignedCheckpoint => {
    const referenced = new Set(headers.slice(0, size).flatMap((h) => h.parents.map(toHex)));
    const cp: Checkpoint = {
      archive: hashes[0]!,
      size,
      root: rootOfLeafHashes(leafHashes.slice(0, size)),
      tips: sorted(hashes.slice(0, size).filter((h) => !referenced.has(toHex(h)))),
      timestamp: T0 + size * 1000 + 1,
    };
    return { ...cp, signature: ed25519.sign(checkpointMessage(cp), sk) };
  };
  return {
    secretKey,
    genesis,
    headers,
    hashes,
    subtree: subtreeOfLeafHashes(leafHashes),
    target,
    ancestry,
    chunkIds,
    checkpoint,
  };
}

export const A = buildArchive();
export const SIZE = A.headers.length;
export const CP = A.checkpoint(SIZE);

export function proofFor(a: Archive, leafIndex: number, cp: SignedCheckpoint, extras = true): ProofBundleJson {
  const chunkLeaves = subtreeOfLeafHashes(a.chunkIds.map((c) => leafHash(c)));
  return makeProofBundle({
    genesis: a.genesis,
    block: a.headers[leafIndex]!,
    leafIndex,
    inclusion: inclusionPath(leafIndex, cp.size, a.subtree),
    checkpoint: cp,
    ...(extras
      ? {
          chunk: { index: 5, id: a.chunkIds[5]!, path: inclusionPath(5, a.chunkIds.length, chunkLeaves) },
          ancestry: a.ancestry,
        }
      : {}),
  });
}

export const LEAVES = [0, 3, 7, 8, 21, SIZE - 1];
export function multiFor(a: Archive, leaves: number[], cp: SignedCheckpoint): MultiProofJson {
  return makeMultiProof({
    genesis: a.genesis,
    checkpoint: cp,
    blocks: leaves.map((i) => ({ leafIndex: i, block: a.headers[i]! })).reverse(), // the builder sorts
    nodes: multiInclusionNodes(leaves, cp.size, a.subtree),
  });
}

export const FROM = 10;
export const CP_FROM = A.checkpoint(FROM);
export const PROOF = proofFor(A, A.target, CP);
export const MULTI = multiFor(A, LEAVES, CP);
export const CONSISTENCY: ConsistencyProofJson = makeConsistencyProof({
  genesis: A.genesis,
  from: CP_FROM,
  to: CP,
  path: consistencyPath(FROM, SIZE, A.subtree),
});
