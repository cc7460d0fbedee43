/**
 * Anchors in proof documents, judged without a network: the offline checks of an anchor, and the
 * comparison of its receipt with what a chain node answered (shared/anchor.ts). The answers here
 * are what an honest node says for the receipt; test/main/chain/ asks a real chain.
 */
import { describe, expect, it } from 'vitest';
import {
  type AnchorReceipt,
  type ChainFacts,
  anchorArgValue,
  anchorMismatch,
  anchorRemark,
  parseCallSpec,
  receiptFromJson,
  signedCheckpointHash,
} from '../../shared/anchor.js';
import { toHex } from '../../shared/bytes.js';
import { checkpointToJson, type SignedCheckpoint } from '../../shared/checkpoint.js';
import { sha256 } from '../../shared/hash.js';
import { consistencyPath } from '../../shared/merkle.js';
import type { ProofBundleJson } from '../../shared/proof-bundle.js';
import { type VerifyResult, verifyProof, verifyProofOnChain } from '../../shared/verify.js';
import { type Json, PLAUSIBLE, mustFail, mutations } from './mutate.js';
import { A, CP, CP_FROM, SIZE, T0, proofFor } from './proof-fixture.js';

const RECEIPT: AnchorReceipt = {
  chain: `0x${'45'.repeat(32)}`,
  block: `0x${'0d'.repeat(32)}`,
  blockNumber: 7,
  extrinsicIndex: 2,
  signer: `0x${'d4'.repeat(32)}`,
  call: 'system.remarkWithEvent',
  args: ['remark'],
};

function anchored(proofCp: SignedCheckpoint, anchoredCp: SignedCheckpoint, receipt = RECEIPT): ProofBundleJson {
  const base = proofFor(A, A.target, proofCp, false);
  return {
    ...base,
    anchor: {
      checkpoint: checkpointToJson(anchoredCp),
      consistency: consistencyPath(proofCp.size, anchoredCp.size, A.subtree).map(toHex),
      receipt: { ...receipt, args: [...receipt.args] },
    },
  };
}

/** What an honest node answers for `receipt` when it holds `cp` anchored. */
function honest(receipt: AnchorReceipt, cp: SignedCheckpoint): ChainFacts {
  return {
    endpoint: 'ws://node.test',
    genesisHash: receipt.chain,
    blockNumber: receipt.blockNumber,
    extrinsicIndex: receipt.extrinsicIndex,
    blockHash: receipt.block,
    finalizedNumber: receipt.blockNumber + 3,
    timestamp: T0,
    extrinsic: {
      signer: receipt.signer,
      call: receipt.call,
      args: receipt.args.map((a) => anchorArgValue(a, cp, sha256)),
      success: true,
    },
  };
}

const reader = (facts: ChainFacts) => ({ readAnchor: () => Promise.resolve(facts) });

// A block proven against the first checkpoint after it, whose first anchored successor is at SIZE.
const PROOF_CP = A.checkpoint(A.target + 1);
const ANCHORED = anchored(PROOF_CP, CP);
const FACTS = honest(RECEIPT, CP);

describe('anchors in proof documents', () => {
  it('offline: checked as far as it can be and reported unchecked; on the chain: verified', async () => {
    const offline = verifyProof(ANCHORED);
    expect(offline.valid).toBe(true);
    expect(offline.anchor).toBe('unchecked');
    expect(offline.steps.at(-1)).toMatchObject({ step: 'anchor', ok: true });
    expect(offline.steps.at(-1)!.detail).toMatch(/not checked against the chain/);

    const r = await verifyProofOnChain(ANCHORED, reader(FACTS));
    expect(r.valid).toBe(true);
    expect(r.anchor).toBe('verified');
    expect(r.steps.at(-1)!.detail).toContain(`block #7 (${RECEIPT.block})`);

    // Anchored at the very checkpoint of the proof: no consistency path, the same checkpoint twice.
    const same = anchored(CP, CP);
    expect(same.anchor!.consistency).toEqual([]);
    expect((await verifyProofOnChain(same, reader(FACTS))).valid).toBe(true);
  });

  it('a proof without an anchor is "none" offline, and fails when the chain is asked', async () => {
    const plain = proofFor(A, A.target, CP, false);
    expect(verifyProof(plain).anchor).toBe('none');
    const r = await verifyProofOnChain(plain, reader(FACTS));
    expect(r.valid).toBe(false);
    expect(r.reason).toBe('anchor: the proof carries no anchor receipt, so there is nothing to check on the chain');
  });

  it('an anchored checkpoint that is older, not consistent, or signed by another key fails offline', () => {
    const older = {
      ...ANCHORED,
      anchor: { ...ANCHORED.anchor!, checkpoint: checkpointToJson(CP_FROM), consistency: [] },
    };
    expect(verifyProof(older).reason).toMatch(/^anchor: anchor\.checkpoint size \d+ is below the checkpoint's size/);
    const forged = anchored(PROOF_CP, A.checkpoint(SIZE, crypto.getRandomValues(new Uint8Array(32))));
    expect(verifyProof(forged).reason).toMatch(/^anchor: anchor\.checkpoint\.signature is not a valid Ed25519/);
    const unrelated = {
      ...ANCHORED,
      anchor: { ...ANCHORED.anchor!, consistency: ANCHORED.anchor!.consistency.slice(1) },
    };
    expect(verifyProof(unrelated).reason).toMatch(/^anchor: anchor\.consistency does not prove/);
  });

  it('every mutation of an anchored proof fails, offline or on the chain, with a reason', async () => {
    const plausible = { ...PLAUSIBLE['pakit-proof']!, anchor: ['anchor', 'chain'] as const };
    const bad: string[] = [];
    const all = mutations(ANCHORED as unknown as Json);
    const results = await Promise.all(all.map((m) => verifyProofOnChain(m.doc, reader(FACTS)).catch((e) => e)));
    all.forEach((m, i) => {
      const r = results[i] as VerifyResult | Error;
      if (r instanceof Error) bad.push(`${m.label}: threw ${r.message}`);
      else mustFail(r, m.label, plausible[m.top as keyof typeof plausible] ?? [], bad);
    });
    expect(bad.slice(0, 30)).toEqual([]);
    expect(all.filter((m) => m.top === 'anchor').length).toBeGreaterThan(100);
  });

  it('each receipt field that disagrees with the chain is named', () => {
    const flip = (h: string): string => h.slice(0, -1) + (h.endsWith('0') ? '1' : '0');
    const x = FACTS.extrinsic!;
    const cases: [Partial<ChainFacts>, RegExp][] = [
      [{ genesisHash: flip(RECEIPT.chain) }, /has genesis .*, the receipt names chain/],
      [{ blockNumber: 8 }, /the chain was read at extrinsic 8-2, not 7-2/],
      [{ extrinsicIndex: 1 }, /the chain was read at extrinsic 7-1, not 7-2/],
      [{ blockHash: null }, /the chain has no block #7/],
      [{ blockHash: flip(RECEIPT.block) }, /block #7 on the chain is 0x[0-9a-f]{64}, the receipt names/],
      [{ finalizedNumber: 6 }, /block #7 is not finalized \(finalized head #6\)/],
      [{ extrinsic: null }, /block #7 has no extrinsic 2/],
      [{ extrinsic: { ...x, signer: null } }, /extrinsic 7-2 is not signed/],
      [{ extrinsic: { ...x, signer: `0x${'8e'.repeat(32)}` } }, /is signed by (0x)?(8e)+, the receipt names 0x(d4)+/],
      [
        { extrinsic: { ...x, call: 'system.remark' } },
        /calls system\.remark, the receipt names system\.remarkWithEvent/,
      ],
      [{ extrinsic: { ...x, args: [] } }, /has 0 argument\(s\), the receipt maps 1/],
      [{ extrinsic: { ...x, args: [{ bytes: '0x00' }] } }, /argument 0 is 0x00, not this checkpoint's remark/],
      [{ extrinsic: { ...x, args: [{ integer: '5' }] } }, /argument 0 is 5, not this checkpoint's remark/],
      [{ extrinsic: { ...x, success: false } }, /extrinsic 7-2 failed to dispatch/],
    ];
    for (const [change, reason] of cases)
      expect(anchorMismatch(RECEIPT, CP, { ...FACTS, ...change }, sha256)).toMatch(reason);
    expect(anchorMismatch(RECEIPT, CP, FACTS, sha256)).toBeUndefined();
    // Pruned state: the node cannot say whether it dispatched, which does not make it fail.
    expect(anchorMismatch(RECEIPT, CP, { ...FACTS, extrinsic: { ...x, success: null } }, sha256)).toBeUndefined();
    expect(anchorMismatch(RECEIPT, CP, FACTS, sha256, `0x${'8e'.repeat(32)}`)).toMatch(
      /signed by 0x(d4)+, not by the expected account 0x(8e)+/,
    );
  });

  it('a mapped call carries the parts of the checkpoint, typed', () => {
    const spec = parseCallSpec('storageProof.submitProof', 'archive, size, root, checkpoint');
    expect(spec.args).toEqual(['archive', 'size', 'root', 'checkpoint']);
    const receipt = { ...RECEIPT, call: spec.call, args: spec.args };
    const facts = honest(receipt, CP);
    expect(facts.extrinsic!.args).toEqual([
      { bytes: `0x${toHex(CP.archive)}` },
      { integer: String(CP.size) },
      { bytes: `0x${toHex(CP.root)}` },
      { bytes: `0x${toHex(signedCheckpointHash(CP, sha256))}` },
    ]);
    expect(anchorMismatch(receipt, CP, facts, sha256)).toBeUndefined();
    // The size of another checkpoint is not this one's.
    expect(anchorMismatch(receipt, CP_FROM, facts, sha256)).toMatch(
      /argument 0 is 0x[0-9a-f]+, not this checkpoint's archive|argument 1/,
    );
    expect(() => parseCallSpec('storage-proof', 'remark')).toThrow(/call must look like section\.method/);
    expect(() => parseCallSpec('a.b', 'remark,nonce')).toThrow(/unknown argument "nonce"/);
    expect(() => parseCallSpec('a.b', '')).toThrow(/unknown argument ""/);
  });

  it('the remark names the archive, the size, the root and the signed checkpoint', () => {
    const text = anchorRemark(CP, sha256);
    expect(text).toBe(
      `pakit-anchor/v1 archive=${toHex(CP.archive)} size=${SIZE} root=${toHex(CP.root)} ` +
        `checkpoint=${toHex(signedCheckpointHash(CP, sha256))}`,
    );
    // The checkpoint hash covers the signature too: the same statement signed differently differs.
    const resigned = { ...CP, signature: new Uint8Array(64) };
    expect(toHex(signedCheckpointHash(resigned, sha256))).not.toBe(toHex(signedCheckpointHash(CP, sha256)));
  });

  it('receipts parse strictly, naming the field', () => {
    expect(receiptFromJson(RECEIPT)).toEqual(RECEIPT);
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ chain: RECEIPT.block.toUpperCase().replace('0X', '0x') }, /chain must be 0x and 64 lowercase hex/],
      [{ block: RECEIPT.block.slice(2) }, /block must be 0x/],
      [{ blockNumber: -1 }, /blockNumber must be a non-negative integer/],
      [{ extrinsicIndex: 1.5 }, /extrinsicIndex must be a non-negative integer/],
      [{ signer: '5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY' }, /signer must be an account id/],
      [{ call: 'remark' }, /call must be section\.method/],
      [{ args: [] }, /args must list 1 to 8 arguments/],
      [{ args: ['remark', 'fee'] }, /args\[1\] must be one of/],
      [{ extra: 1 }, /unknown field extra/],
    ];
    for (const [change, reason] of cases) expect(() => receiptFromJson({ ...RECEIPT, ...change })).toThrow(reason);
    const missing: Record<string, unknown> = { ...RECEIPT };
    delete missing.signer;
    expect(() => receiptFromJson(missing)).toThrow(/missing field signer/);
  });
});
