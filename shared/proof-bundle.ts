/**
 * The three self-contained proof documents of docs/FORMATS.md — `pakit-proof`, `pakit-multiproof`
 * and `pakit-consistency`, version 1 — as typed values and as JSON, and the builder side the archive
 * uses to produce them from pieces it has already computed (headers, audit paths, signed checkpoints).
 *
 * Strict parsing lives in proof-parse.ts (re-exported here) and verification in verify.ts.
 */
import type { ProofAnchor, ProofAnchorJson } from './anchor.js';
import { type BlockHeader, type BlockHeaderJson, hashHeader, headerToJson } from './block-header.js';
import { toHex } from './bytes.js';
import { type CheckpointJson, type SignedCheckpoint, checkpointToJson } from './checkpoint.js';
import { sha256 as defaultSha256, type Sha256 } from './hash.js';
import {
  CONSISTENCY_FORMAT,
  MULTIPROOF_FORMAT,
  PROOF_FORMAT,
  PROOF_VERSION,
  parseConsistencyProof,
  parseMultiProof,
  parseProofBundle,
} from './proof-parse.js';

export {
  CONSISTENCY_FORMAT,
  MAX_ANCESTRY,
  MAX_MULTIPROOF_BLOCKS,
  MAX_PATH_LENGTH,
  MULTIPROOF_FORMAT,
  PROOF_FORMAT,
  PROOF_VERSION,
  ProofFormatError,
  parseConsistencyProof,
  parseMultiProof,
  parseProofBundle,
} from './proof-parse.js';

/** One chunk of the block's object, proven against the block's content root. */
export interface ChunkProof {
  /** Position of the chunk in the object (0-based), below the block's chunkCount. */
  readonly index: number;
  /** SHA-256 of the chunk's raw bytes. */
  readonly id: Uint8Array;
  /** RFC 9162 audit path of leaf `index` in the tree of the block's chunk ids, leaf side first. */
  readonly path: readonly Uint8Array[];
}

/** A `pakit-proof` bundle, parsed: one block is in the archive, and optionally one chunk and a path to genesis. */
export interface ProofBundle {
  readonly genesis: BlockHeader;
  readonly block: BlockHeader;
  /** The block's hash, as claimed; the verifier recomputes it from `block`. */
  readonly hash: Uint8Array;
  /** Position of the block in the archive's log (0 is the genesis block). */
  readonly leafIndex: number;
  /** RFC 9162 audit path from leaf `leafIndex` to `checkpoint.root`, leaf side first. */
  readonly inclusion: readonly Uint8Array[];
  readonly checkpoint: SignedCheckpoint;
  readonly chunk?: ChunkProof;
  /** Headers from a parent of `block` down to a child of genesis, each a parent of the one before. */
  readonly ancestry?: readonly BlockHeader[];
  /** The first anchored checkpoint covering the block, and where it was anchored (shared/anchor.ts). */
  readonly anchor?: ProofAnchor;
}

/** One proven block of a multiproof. */
export interface MultiProofBlock {
  readonly leafIndex: number;
  readonly hash: Uint8Array;
  readonly block: BlockHeader;
}

/** A `pakit-multiproof` bundle, parsed: several blocks proven against one checkpoint with shared nodes. */
export interface MultiProof {
  readonly genesis: BlockHeader;
  readonly checkpoint: SignedCheckpoint;
  /** Sorted by leafIndex, each leaf once. */
  readonly blocks: readonly MultiProofBlock[];
  /** Roots of the maximal subtrees holding no proven leaf, depth-first, left to right. */
  readonly nodes: readonly Uint8Array[];
}

/** A `pakit-consistency` bundle, parsed: the log at `to` extends the log at `from`. */
export interface ConsistencyProof {
  readonly genesis: BlockHeader;
  readonly from: SignedCheckpoint;
  readonly to: SignedCheckpoint;
  /** RFC 9162 consistency proof from `from.size` to `to.size`. */
  readonly path: readonly Uint8Array[];
}

export interface ChunkProofJson {
  index: number;
  id: string;
  path: string[];
}

/** JSON form of {@link ProofBundle}, exactly as written to a `.json` proof file. */
export interface ProofBundleJson {
  format: typeof PROOF_FORMAT;
  version: typeof PROOF_VERSION;
  genesis: BlockHeaderJson;
  block: BlockHeaderJson;
  hash: string;
  leafIndex: number;
  inclusion: string[];
  checkpoint: CheckpointJson;
  chunk?: ChunkProofJson;
  ancestry?: BlockHeaderJson[];
  anchor?: ProofAnchorJson;
}

export interface MultiProofBlockJson {
  leafIndex: number;
  hash: string;
  block: BlockHeaderJson;
}

/** JSON form of {@link MultiProof}. */
export interface MultiProofJson {
  format: typeof MULTIPROOF_FORMAT;
  version: typeof PROOF_VERSION;
  genesis: BlockHeaderJson;
  checkpoint: CheckpointJson;
  blocks: MultiProofBlockJson[];
  nodes: string[];
}

/** JSON form of {@link ConsistencyProof}. */
export interface ConsistencyProofJson {
  format: typeof CONSISTENCY_FORMAT;
  version: typeof PROOF_VERSION;
  genesis: BlockHeaderJson;
  from: CheckpointJson;
  to: CheckpointJson;
  path: string[];
}

/** Any of the three proof documents, in JSON form. */
export type AnyProofJson = ProofBundleJson | MultiProofJson | ConsistencyProofJson;

/** Serializes a parsed bundle back to its JSON form (parse ∘ serialize is the identity). */
export function proofBundleToJson(b: ProofBundle): ProofBundleJson {
  const out: ProofBundleJson = {
    format: PROOF_FORMAT,
    version: PROOF_VERSION,
    genesis: headerToJson(b.genesis),
    block: headerToJson(b.block),
    hash: toHex(b.hash),
    leafIndex: b.leafIndex,
    inclusion: b.inclusion.map(toHex),
    checkpoint: checkpointToJson(b.checkpoint),
  };
  if (b.chunk) out.chunk = { index: b.chunk.index, id: toHex(b.chunk.id), path: b.chunk.path.map(toHex) };
  if (b.ancestry) out.ancestry = b.ancestry.map(headerToJson);
  if (b.anchor)
    out.anchor = {
      checkpoint: checkpointToJson(b.anchor.checkpoint),
      consistency: b.anchor.consistency.map(toHex),
      receipt: { ...b.anchor.receipt, args: [...b.anchor.receipt.args] },
    };
  return out;
}

export function multiProofToJson(m: MultiProof): MultiProofJson {
  return {
    format: MULTIPROOF_FORMAT,
    version: PROOF_VERSION,
    genesis: headerToJson(m.genesis),
    checkpoint: checkpointToJson(m.checkpoint),
    blocks: m.blocks.map((b) => ({ leafIndex: b.leafIndex, hash: toHex(b.hash), block: headerToJson(b.block) })),
    nodes: m.nodes.map(toHex),
  };
}

export function consistencyProofToJson(c: ConsistencyProof): ConsistencyProofJson {
  return {
    format: CONSISTENCY_FORMAT,
    version: PROOF_VERSION,
    genesis: headerToJson(c.genesis),
    from: checkpointToJson(c.from),
    to: checkpointToJson(c.to),
    path: c.path.map(toHex),
  };
}

/** What the archive has computed for a single-block proof; {@link makeProofBundle} adds the rest. */
export interface ProofBundleParts {
  readonly genesis: BlockHeader;
  readonly block: BlockHeader;
  readonly leafIndex: number;
  /** `inclusionPath(leafIndex, checkpoint.size, …)` over the block log. */
  readonly inclusion: readonly Uint8Array[];
  readonly checkpoint: SignedCheckpoint;
  readonly chunk?: ChunkProof;
  readonly ancestry?: readonly BlockHeader[];
  readonly anchor?: ProofAnchor;
}

/**
 * Builds a `pakit-proof` document from already-computed pieces (the block hash is computed here).
 * The result is parsed back before it is returned, so the archive can never hand out a document
 * that a verifier would reject as malformed; throws {@link ProofFormatError} if it would be.
 * It does not check that the pieces fit together: run verifyProof for that.
 */
export function makeProofBundle(parts: ProofBundleParts, hash: Sha256 = defaultSha256): ProofBundleJson {
  const bundle: ProofBundle = { ...parts, hash: hashHeader(parts.block, hash) };
  const json = proofBundleToJson(bundle);
  parseProofBundle(json);
  return json;
}

export interface MultiProofParts {
  readonly genesis: BlockHeader;
  readonly checkpoint: SignedCheckpoint;
  /** The blocks to prove, in any order (they are sorted by leafIndex here). */
  readonly blocks: readonly { readonly leafIndex: number; readonly block: BlockHeader }[];
  /** `multiInclusionNodes(leafIndices, checkpoint.size, …)` over the block log. */
  readonly nodes: readonly Uint8Array[];
}

/** Builds a `pakit-multiproof` document; like {@link makeProofBundle}, it checks the result's shape. */
export function makeMultiProof(parts: MultiProofParts, hash: Sha256 = defaultSha256): MultiProofJson {
  const blocks = [...parts.blocks]
    .sort((a, b) => a.leafIndex - b.leafIndex)
    .map((b) => ({ leafIndex: b.leafIndex, hash: hashHeader(b.block, hash), block: b.block }));
  const json = multiProofToJson({ genesis: parts.genesis, checkpoint: parts.checkpoint, blocks, nodes: parts.nodes });
  parseMultiProof(json);
  return json;
}

/** Builds a `pakit-consistency` document; `path` is `consistencyPath(from.size, to.size, …)`. */
export function makeConsistencyProof(parts: ConsistencyProof): ConsistencyProofJson {
  const json = consistencyProofToJson(parts);
  parseConsistencyProof(json);
  return json;
}
