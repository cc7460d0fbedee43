/**
 * The offline verifier on real bundles (see proof-fixture.ts), the mutation tests (see mutate.ts),
 * hostile inputs, and batch verification's signature cache.
 */
import { createHash } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import { type BlockHeader, hashHeader } from '../../shared/block-header.js';
import { toHex } from '../../shared/bytes.js';
import { type Checkpoint, checkpointMessage } from '../../shared/checkpoint.js';
import { verifyCheckpointSignature } from '../../shared/signature-cache.js';
import { inclusionPath, leafHash, rootOfLeafHashes, subtreeOfLeafHashes } from '../../shared/merkle.js';
import {
  MAX_PATH_LENGTH,
  type ProofBundleJson,
  makeProofBundle,
  parseMultiProof,
  parseProofBundle,
  proofBundleToJson,
} from '../../shared/proof-bundle.js';
import {
  type VerifyResult,
  verifyAny,
  verifyBatch,
  verifyConsistencyProof,
  verifyEd25519,
  verifyMultiProof,
  verifyProof,
} from '../../shared/verify.js';
import { type Json, expectAllOk, runMutations } from './mutate.js';
import {
  A,
  CONSISTENCY,
  CP,
  CP_FROM,
  FROM,
  LEAVES,
  MULTI,
  PROOF,
  SIZE,
  T0,
  buildArchive,
  makeGenesis,
  multiFor,
  proofFor,
} from './proof-fixture.js';

const clone = <T>(v: T): T => structuredClone(v);
const nodeSha = (b: Uint8Array): Uint8Array => new Uint8Array(createHash('sha256').update(b).digest());
const invalid = (r: VerifyResult, reason?: RegExp): void => {
  expect(r.valid).toBe(false);
  expect(r.reason ?? '').not.toBe('');
  if (reason) expect(r.reason).toMatch(reason);
};

describe('valid bundles', () => {
  it('a single-block proof with chunk and ancestry passes every step', () => {
    expect(A.ancestry.length).toBeGreaterThanOrEqual(5);
    const r = verifyProof(PROOF);
    expectAllOk(r, ['format', 'genesis', 'header', 'signature', 'inclusion', 'chunk', 'ancestry', 'anchor']);
    expect(r.format).toBe('pakit-proof');
    expect(r.steps.at(-1)!.detail).toMatch(/carries no chain anchor/);
    // Text, UTF-8 bytes and parsed JSON are the same document.
    const text = JSON.stringify(PROOF, null, 2);
    expect(verifyProof(text).valid).toBe(true);
    expect(verifyProof(new TextEncoder().encode(text)).valid).toBe(true);
    expect(verifyAny(text).format).toBe('pakit-proof');
  });

  it('every block of the log, the genesis block included, has a proof that verifies', () => {
    for (let i = 0; i < SIZE; i++) {
      const r = verifyProof(proofFor(A, i, CP, false));
      expect(r.reason, `leaf ${i}`).toBeUndefined();
    }
    // At an earlier checkpoint too.
    expect(verifyProof(proofFor(A, 4, CP_FROM, false)).valid).toBe(true);
  });

  it('a multiproof and a consistency proof pass every step', () => {
    expectAllOk(verifyMultiProof(MULTI), ['format', 'genesis', 'header', 'signature', 'inclusion', 'anchor']);
    expectAllOk(verifyConsistencyProof(CONSISTENCY), ['format', 'genesis', 'signature', 'consistency', 'anchor']);
    expect(verifyAny(MULTI).valid && verifyAny(CONSISTENCY).valid).toBe(true);
    // A checkpoint is consistent with itself.
    const same = { ...clone(CONSISTENCY), from: clone(CONSISTENCY.to), path: [] };
    expect(verifyConsistencyProof(same).valid).toBe(true);
  });

  it('parse and serialize are inverse, and a node:crypto hash gives the same verdict', () => {
    expect(proofBundleToJson(parseProofBundle(PROOF))).toEqual(PROOF);
    const hash = nodeSha;
    expect(verifyProof(PROOF, { hash }).valid).toBe(true);
    expect(verifyMultiProof(MULTI, { hash }).valid).toBe(true);
    expect(verifyConsistencyProof(CONSISTENCY, { hash }).valid).toBe(true);
  });
});

describe('mutation testing: every change to a bundle is refused', () => {
  it('pakit-proof', () => {
    // Dropping an optional part leaves a smaller proof that is still true; nothing else may verify.
    const n = runMutations(PROOF as unknown as Json, (d) => verifyProof(d), 'pakit-proof', [
      '.chunk deleted',
      '.ancestry deleted',
    ]);
    expect(n).toBeGreaterThan(1000);
  });

  it('pakit-multiproof', () => {
    expect(runMutations(MULTI as unknown as Json, (d) => verifyMultiProof(d), 'pakit-multiproof')).toBeGreaterThan(500);
  });

  it('pakit-consistency', () => {
    const n = runMutations(CONSISTENCY as unknown as Json, (d) => verifyConsistencyProof(d), 'pakit-consistency');
    expect(n).toBeGreaterThan(100);
  });

  it('truncated texts, at every cut point', () => {
    for (const doc of [PROOF, MULTI, CONSISTENCY]) {
      for (const text of [JSON.stringify(doc), JSON.stringify(doc, null, 1)]) {
        const bad: number[] = [];
        for (let cut = 0; cut < text.length; cut++) {
          const r = verifyAny(text.slice(0, cut));
          if (r.valid || !r.reason) bad.push(cut);
        }
        expect(bad).toEqual([]);
      }
    }
  });
});

describe('hostile and malformed input', () => {
  it('never throws, and always says why', () => {
    const circular: Record<string, unknown> = { format: 'pakit-proof', version: 1 };
    circular.genesis = circular;
    const throwing = new Proxy(
      {},
      {
        ownKeys: () => {
          throw new Error('trap');
        },
        get: () => {
          throw new Error('trap');
        },
      },
    );
    const getter = { format: 'pakit-proof', version: 1 } as Record<string, unknown>;
    Object.defineProperty(getter, 'genesis', {
      enumerable: true,
      get: () => {
        throw new TypeError('getter');
      },
    });
    const deep = `${'['.repeat(200_000)}${']'.repeat(200_000)}`;
    const inputs: unknown[] = [
      '',
      ' ',
      'hello',
      'null',
      '[]',
      '{}',
      '42',
      '"pakit-proof"',
      '{"format":"pakit-proof"',
      deep,
      `{"a":${deep}}`,
      null,
      undefined,
      0,
      -1,
      Number.NaN,
      10n ** 400n,
      Symbol('x'),
      () => PROOF,
      [],
      [PROOF],
      {},
      { format: 'pakit-proof' },
      { format: 'pakit-proof', version: 2 },
      { ...clone(PROOF), version: 1.0000001 },
      { ...clone(PROOF), leafIndex: 1e308 },
      { ...clone(PROOF), leafIndex: -0.5 },
      { ...clone(PROOF), leafIndex: 2 ** 53 },
      { ...clone(PROOF), inclusion: Array(1_000_000).fill(PROOF.hash) },
      { ...clone(PROOF), ancestry: Array(200_000).fill(PROOF.genesis) },
      { ...clone(PROOF), genesis: { ...PROOF.genesis, meta: { ...PROOF.genesis.meta, publicKey: 7 } } },
      circular,
      throwing,
      getter,
      new Uint8Array([0xff, 0xfe, 0x7b, 0x7d]),
      new Uint8Array(0),
    ];
    for (const input of inputs) {
      for (const f of [verifyProof, verifyMultiProof, verifyConsistencyProof, verifyAny]) {
        let r: VerifyResult | undefined;
        expect(() => (r = f(input))).not.toThrow();
        invalid(r!);
        expect(r!.anchor).toBe('none');
      }
    }
    expect(verifyBatch(inputs).every((r) => !r.valid && r.reason)).toBe(true);
  });

  it('refuses texts over 16 MiB before parsing them', () => {
    const big = `"${'a'.repeat(17 * 1024 * 1024)}"`;
    invalid(verifyProof(big), /^format: text is larger than/);
    invalid(verifyAny(new TextEncoder().encode(big)), /^format: text is larger than/);
    // Under 16 Mi UTF-16 units but over 16 MiB of UTF-8.
    invalid(verifyAny(`"${'é'.repeat(9 * 1024 * 1024)}"`), /^format: text is larger than/);
  });

  it('names the field that is wrong', () => {
    const p = clone(PROOF) as ProofBundleJson & Record<string, unknown>;
    invalid(verifyProof({ ...p, extra: 1 }), /^format: unknown field "extra"$/);
    invalid(verifyProof({ ...p, format: 'pakit-multiproof' }), /format is "pakit-multiproof", expected "pakit-proof"/);
    invalid(
      verifyProof({ ...p, inclusion: [...p.inclusion, p.hash.toUpperCase()] }),
      /inclusion\[\d+\]: must be 64 lowercase hex/,
    );
    const long = Array(MAX_PATH_LENGTH + 1).fill(p.hash);
    invalid(verifyProof({ ...p, inclusion: long }), /^format: inclusion: has 65 entries, more than 64$/);
    const anc = clone(p.ancestry!);
    anc[2]!.parents[0] = anc[2]!.parents[0]!.toUpperCase();
    invalid(
      verifyProof({ ...p, ancestry: anc }),
      /^format: ancestry\[2\]: parents\[0\] must be 64 lowercase hex digits$/,
    );
    invalid(
      verifyProof({ ...p, chunk: { ...p.chunk!, index: -1 } }),
      /^format: chunk\.index: must be a non-negative integer/,
    );
    const cp = { ...p.checkpoint } as Record<string, unknown>;
    delete cp.tips;
    invalid(verifyProof({ ...p, checkpoint: cp }), /^format: checkpoint: missing field tips$/);
    invalid(verifyProof({ ...p, hash: PROOF.genesis.contentRoot }), /^header: hash of block .* does not equal hash$/);
    invalid(
      verifyProof({ ...p, leafIndex: p.leafIndex - 1 }),
      /^inclusion: audit path does not reproduce the checkpoint root$/,
    );
    invalid(verifyProof({ ...p, leafIndex: SIZE }), /^inclusion: leafIndex \d+ is not below checkpoint size/);
    invalid(verifyProof({ ...p, chunk: { ...p.chunk!, index: 13 } }), /^chunk: chunk index 13 is not below/);
    invalid(
      verifyProof({ ...p, ancestry: p.ancestry!.slice(1) }),
      /^ancestry: ancestry\[0\] .* is not a parent of block$/,
    );
    invalid(
      verifyProof({ ...p, ancestry: p.ancestry!.slice(0, -1) }),
      /^ancestry: genesis is not a parent of ancestry\[\d+\]$/,
    );
    const m = clone(MULTI);
    invalid(
      verifyMultiProof({ ...m, blocks: [m.blocks[1], m.blocks[0], ...m.blocks.slice(2)] }),
      /sorted by leafIndex/,
    );
    invalid(verifyMultiProof({ ...m, blocks: [m.blocks[0], ...m.blocks] }), /sorted by leafIndex, each leaf once/);
    invalid(verifyMultiProof({ ...m, blocks: [] }), /blocks: must prove at least one block/);
    invalid(verifyMultiProof({ ...m, nodes: m.nodes.slice(1) }), /^inclusion: nodes do not fit/);
    invalid(verifyAny({ ...m, format: 'pakit-proofs' }), /^format: not a Pakit proof/);
    expect(verifyAny({ ...m, format: 'x' }).format).toBe('unknown');
    expect(verifyAny({ ...m, nodes: [] }).format).toBe('pakit-multiproof');
  });
});

describe('the rules between the pieces', () => {
  it('leaf 0 is the genesis block and only it, even in a log the archive key really signed', () => {
    // A dishonest archive puts an ordinary block at leaf 0 and the genesis elsewhere, and signs it.
    const order = [1, 0, ...Array.from({ length: SIZE - 2 }, (_, i) => i + 2)];
    const leaves = order.map((i) => leafHash(A.hashes[i]!));
    const cp: Checkpoint = {
      archive: A.hashes[0]!,
      size: SIZE,
      root: rootOfLeafHashes(leaves),
      tips: [],
      timestamp: T0,
    };
    const signed = { ...cp, signature: ed25519.sign(checkpointMessage(cp), A.secretKey) };
    const sub = subtreeOfLeafHashes(leaves);
    const bundle = (pos: number): ProofBundleJson =>
      makeProofBundle({
        genesis: A.genesis,
        block: A.headers[order[pos]!]!,
        leafIndex: pos,
        inclusion: inclusionPath(pos, SIZE, sub),
        checkpoint: signed,
      });
    invalid(verifyProof(bundle(0)), /^inclusion: leaf 0 is the genesis block, not this block$/);
    invalid(verifyProof(bundle(1)), /^inclusion: the genesis block must be leaf 0$/);
    expect(verifyProof(bundle(2)).valid).toBe(true);
  });

  it('a checkpoint signed by another key, or naming another archive, is refused', () => {
    const other = buildArchive(12);
    const foreign = A.checkpoint(SIZE, other.secretKey);
    invalid(verifyProof(proofFor(A, A.target, foreign)), /^signature: checkpoint\.signature is not a valid Ed25519/);
    // The other archive's genuine proof, presented with this archive's genesis.
    const theirs = proofFor(other, 5, other.checkpoint(other.headers.length), false);
    invalid(
      verifyProof({ ...theirs, genesis: PROOF.genesis }),
      /^genesis: checkpoint\.archive is not the hash of genesis/,
    );
    invalid(
      verifyConsistencyProof({
        ...clone(CONSISTENCY),
        from: proofFor(other, 1, other.checkpoint(FROM), false).checkpoint,
      }),
      /^genesis: from\.archive is not the hash of genesis/,
    );
  });

  it('refuses a small-order key whose "signature" would verify for every message (ZIP-215 accepts it)', () => {
    const identity = new Uint8Array(32);
    identity[0] = 1; // the neutral point: small order
    const genesis: BlockHeader = makeGenesis(identity);
    const cp: Checkpoint = {
      archive: hashHeader(genesis),
      size: 1,
      root: leafHash(hashHeader(genesis)),
      tips: [],
      timestamp: T0,
    };
    const signature = new Uint8Array(64);
    signature.set(identity, 0); // R = identity, S = 0
    expect(ed25519.verify(signature, checkpointMessage(cp), identity)).toBe(true); // noble's default
    expect(verifyEd25519(signature, checkpointMessage(cp), identity)).toBe(false);
    expect(verifyCheckpointSignature({ ...cp, signature }, identity)).toBe(false);
    const forged = makeProofBundle({
      genesis,
      block: genesis,
      leafIndex: 0,
      inclusion: [],
      checkpoint: { ...cp, signature },
    });
    invalid(verifyProof(forged), /^signature:/);
  });

  it('refuses a later checkpoint offered as the earlier one, and a genesis that breaks the fixed fields', () => {
    invalid(
      verifyConsistencyProof({ ...clone(CONSISTENCY), from: CONSISTENCY.to, to: CONSISTENCY.from }),
      /^consistency: from\.size \d+ is greater than to\.size/,
    );
    const wrong = { ...A.genesis, codec: 'zstd-3' };
    const cp = A.checkpoint(SIZE);
    const p = makeProofBundle({ genesis: wrong, block: A.headers[3]!, leafIndex: 3, inclusion: [], checkpoint: cp });
    invalid(verifyProof(p), /^genesis: genesis codec must be none$/);
  });

  it('a broken or throwing hash implementation makes bundles invalid, not exceptions', () => {
    invalid(verifyProof(PROOF, { hash: () => new Uint8Array(32) }));
    const r = verifyProof(PROOF, {
      hash: () => {
        throw new Error('no hash today');
      },
    });
    invalid(r, /^genesis: unexpected error: no hash today$/);
    invalid(
      verifyProof(PROOF, {
        verifySignature: () => {
          throw new Error('boom');
        },
      }),
    );
  });

  it('builders refuse to produce a malformed document', () => {
    const parts = parseProofBundle(PROOF);
    let err: unknown;
    try {
      makeProofBundle({ ...parts, leafIndex: -1 });
    } catch (e) {
      err = e;
    }
    expect((err as Error).name).toBe('ProofFormatError');
    expect((err as { code: string }).code).toBe('ERR_PROOF_FORMAT');
    expect(() => makeProofBundle({ ...parts, inclusion: Array(65).fill(parts.hash) })).toThrow(/more than 64/);
    expect(() => multiFor(A, [], CP)).toThrow();
    expect(parseMultiProof(MULTI).blocks.map((b) => b.leafIndex)).toEqual(LEAVES);
  });
});

describe('verifyBatch', () => {
  it('gives each document its own verdict and checks each distinct signature once', () => {
    const other = buildArchive(10);
    const tampered = clone(PROOF);
    tampered.checkpoint.timestamp += 1; // same key, new message: a distinct (and bad) signature
    const garbage = '{"format":"pakit-proof",';
    const inputs: unknown[] = [
      PROOF,
      MULTI,
      CONSISTENCY,
      tampered,
      JSON.stringify(PROOF),
      garbage,
      proofFor(A, 2, CP, false),
      proofFor(other, 3, other.checkpoint(other.headers.length), false),
      proofFor(A, 4, CP_FROM, false),
    ];
    let calls = 0;
    const seen = new Set<string>();
    const counting = (s: Uint8Array, m: Uint8Array, k: Uint8Array): boolean => {
      calls++;
      seen.add(toHex(k) + toHex(s) + toHex(m));
      return verifyEd25519(s, m, k);
    };
    const results = verifyBatch(inputs, { verifySignature: counting });
    expect(results.map((r) => r.valid)).toEqual([true, true, true, false, true, false, true, true, true]);
    expect(results.map((r) => r.format)).toEqual([
      'pakit-proof',
      'pakit-multiproof',
      'pakit-consistency',
      'pakit-proof',
      'pakit-proof',
      'unknown',
      'pakit-proof',
      'pakit-proof',
      'pakit-proof',
    ]);
    expect(results[3]!.reason).toMatch(/^signature:/);
    expect(results[5]!.reason).toMatch(/^format: not valid JSON/);
    // CP (6 uses), CP_FROM (2), the tampered one and the other archive's: four distinct signatures.
    expect(seen.size).toBe(4);
    expect(calls).toBe(4);
    // One at a time, the same documents need a check per checkpoint per document.
    calls = 0;
    const single = inputs.map((i) => verifyAny(i, { verifySignature: counting }));
    expect(single.map((r) => r.valid)).toEqual(results.map((r) => r.valid));
    expect(calls).toBe(9);
  });

  it('is empty for no input', () => {
    expect(verifyBatch([])).toEqual([]);
  });
});
