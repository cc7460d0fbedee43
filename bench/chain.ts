// Chain anchoring against the chain issue's targets, on a real Substrate runtime (chopsticks in
// genesis mode, Asset Hub; see local-chain.ts), in its own process:
//   1. anchor → finalized receipt: time from "anchor now" to the stored receipt (target < 2 s),
//      first on a cold connection (connect + metadata included), then warm;
//   2. one transaction per checkpoint however many objects it covers: checkpoints covering
//      1, 1,000 and 10,000 new blocks, each anchored, counting the signer's extrinsics (nonce) and
//      the remark's bytes;
//   3. verifying a proof from the chain (connect excluded, then included).
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Archive } from '../main/archive/archive.js';
import { Anchorer } from '../main/chain/anchorer.js';
import { ChainClient } from '../main/chain/chain-client.js';
import { loadSigner } from '../main/chain/signer.js';
import { nodeSha256 } from '../main/util/sha256.js';
import { verifyProofOnChain } from '../shared/verify.js';
import type { Section } from './context.js';
import { spec } from './dag-million.js';
import { startLocalChain } from './local-chain.js';
import { progress, round } from './measure.js';

export const chainSection: Section = async (ctx) => {
  const dir = join(ctx.workDir, 'runs', 'chain');
  rmSync(dir, { recursive: true, force: true });
  progress('chain: starting the local chain');
  let t = performance.now();
  const chain = await startLocalChain();
  const chainStartSeconds = (performance.now() - t) / 1000;
  const archive = await Archive.open({ dir });
  const signer = await loadSigner({ suri: '//Alice' });
  const reader = await ChainClient.connect(chain.endpoint);
  const nonce = async (): Promise<number> =>
    (
      (await reader.api.query.system.account(signer.pair.address)) as unknown as { nonce: { toNumber(): number } }
    ).nonce.toNumber();
  try {
    let seq = 0;
    const add = (n: number): void => {
      for (let done = 0; done < n; done += 1000)
        archive.appendBlocks(Array.from({ length: Math.min(1000, n - done) }, () => spec(seq++, randomBytes(32))));
    };

    // 1. cold: a fresh Anchorer connects, fetches metadata, submits and waits for finality.
    add(1);
    const cold = Anchorer.once({ archive, endpoint: chain.endpoint, signer });
    t = performance.now();
    const first = await cold.anchorNow();
    const coldMs = performance.now() - t;
    if (first.state !== 'anchored') throw new Error(`cold anchor failed: ${first.lastError}`);

    // 1–2. warm, with checkpoints covering more and more new blocks.
    const warm = Anchorer.once({ archive, endpoint: chain.endpoint, signer });
    await warm.anchorNow(); // connects; nothing new to anchor, so it returns the anchored row
    const runs = [];
    for (const blocks of [1, 1, 1, 1000, 10_000, 1, 1]) {
      add(blocks);
      const before = await nonce();
      t = performance.now();
      const row = await warm.anchorNow();
      const ms = performance.now() - t;
      if (row.state !== 'anchored') throw new Error(`anchor failed: ${row.lastError}`);
      const transactions = (await nonce()) - before;
      runs.push({ newBlocks: blocks, checkpointSize: row.size, transactions, ms: round(ms), fee: row.fee });
    }
    await warm.close();
    await cold.close();
    const warmMs = runs.map((r) => r.ms).sort((a, b) => a - b);

    // 3. verification from the chain.
    const proof = archive.proof(archive.ctx.index.bySeq(5)!.hash);
    t = performance.now();
    const verified = await verifyProofOnChain(proof, reader, { hash: nodeSha256 });
    const verifyMs = performance.now() - t;
    if (!verified.valid) throw new Error(`verification from the chain failed: ${verified.reason}`);
    t = performance.now();
    const fresh = await ChainClient.connect(chain.endpoint);
    const again = await verifyProofOnChain(proof, fresh, { hash: nodeSha256 });
    const verifyColdMs = performance.now() - t;
    await fresh.close();
    if (!again.valid) throw new Error(`verification from the chain failed: ${again.reason}`);

    return {
      runtime: `${reader.api.runtimeVersion.specName.toString()} ${reader.api.runtimeVersion.specVersion.toNumber()} (chopsticks 1.5.1, genesis mode, instant blocks)`,
      chainStartSeconds: round(chainStartSeconds),
      anchorToFinalizedReceipt: {
        target: '< 2 s',
        coldMs: round(coldMs),
        warmMedianMs: warmMs[Math.floor(warmMs.length / 2)],
        warmMaxMs: warmMs.at(-1),
      },
      oneTransactionPerCheckpoint: runs,
      verifyFromChain: { warmMs: round(verifyMs), withConnectMs: round(verifyColdMs) },
      proofBytes: JSON.stringify(proof).length,
    };
  } finally {
    await reader.close();
    await archive.close();
    await chain.close();
    if (!ctx.keep) rmSync(dir, { recursive: true, force: true });
  }
};
