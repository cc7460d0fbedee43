import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Keyring } from '@polkadot/keyring';
import { u8aToHex } from '@polkadot/util';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProofBundleJson } from '../../../shared/proof-bundle.js';
import { verifyProof, verifyProofOnChain } from '../../../shared/verify.js';
import { startLocalChain, type LocalChain } from '../../../bench/local-chain.js';
import { Archive } from '../../../main/archive/archive.js';
import { AnchorStore } from '../../../main/archive/anchors.js';
import { Anchorer, type AnchorStatus } from '../../../main/chain/anchorer.js';
import { ChainClient } from '../../../main/chain/chain-client.js';
import { loadSigner, type Signer } from '../../../main/chain/signer.js';
import { nodeSha256 } from '../../../main/util/sha256.js';
import { pakitP as pakit } from '../../helpers/cli.js';
import { tempDir } from '../../helpers/tmp.js';

let chain: LocalChain;
let client: ChainClient;
let alice: Signer;
let bob: Signer;

beforeAll(async () => {
  chain = await startLocalChain();
  client = await ChainClient.connect(chain.endpoint);
  alice = await loadSigner({ suri: '//Alice' });
  bob = await loadSigner({ suri: '//Bob' });
});

afterAll(async () => {
  await client?.close();
  await chain?.close();
});

/** An archive with `n` small files stored through the real CLI; returns their hashes. */
async function archiveWith(n: number, data = tempDir()): Promise<{ data: string; hashes: string[] }> {
  const src = tempDir();
  for (let i = 0; i < n; i++) writeFileSync(join(src, `record-${i}.txt`), `record ${i} ${Math.random()}\n`);
  const r = await pakit(['--data', data, 'store', src]);
  expect(r.code, r.stderr).toBe(0);
  const hashes = r.stdout
    .trim()
    .split('\n')
    .slice(0, -1)
    .map((l) => l.slice(0, 64));
  return { data, hashes };
}

async function proofOf(data: string, hash: string): Promise<ProofBundleJson> {
  const r = await pakit(['--data', data, 'proof', hash]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as ProofBundleJson;
}

/** The first status of `anchorer` that satisfies `pred`. */
function statusWhere(anchorer: Anchorer, pred: (s: AnchorStatus) => boolean): Promise<AnchorStatus> {
  return new Promise((resolve) => {
    const off = anchorer.onStatus((s) => {
      if (!pred(s)) return;
      off();
      resolve(s);
    });
  });
}

const onChain = (proof: unknown, expectedSigner?: string) =>
  verifyProofOnChain(proof, client, { hash: nodeSha256, ...(expectedSigner ? { expectedSigner } : {}) });

describe('anchoring checkpoints on a Substrate chain (chopsticks, Asset Hub runtime)', () => {
  it('anchor → receipt → proof → verify from the chain, through the CLI', async () => {
    const { data, hashes } = await archiveWith(3);
    const a = await pakit(['--data', data, 'anchor', '--chain', chain.endpoint, '--suri', '//Alice', '--json']);
    expect(a.code, a.stderr).toBe(0);
    const row = JSON.parse(a.stdout) as {
      size: number;
      state: string;
      fee: string;
      receipt: { chain: string; block: string; blockNumber: number; extrinsicIndex: number; signer: string };
    };
    expect(row.state).toBe('anchored');
    expect(row.receipt.chain).toBe(client.genesisHash);
    expect(row.receipt.block).toMatch(/^0x[0-9a-f]{64}$/);
    expect(row.receipt.signer).toBe(alice.accountId);
    expect(BigInt(row.fee)).toBeGreaterThan(0n);
    // The log holds genesis, three files and the snapshot.
    expect(row.size).toBe(5);

    const proof = await proofOf(data, hashes[1]!);
    expect(proof.anchor?.receipt).toEqual({ ...row.receipt, call: 'system.remarkWithEvent', args: ['remark'] });
    const file = join(tempDir(), 'proof.json');
    writeFileSync(file, JSON.stringify(proof));

    const offline = await pakit(['verify', file]);
    expect(offline.code).toBe(0);
    expect(offline.stdout).toMatch(/ok {3}anchor: checkpoint size 5 .*not checked against the chain/);
    expect(offline.stdout.trim().split('\n').at(-1)).toBe('valid');

    const checked = await pakit(['verify', file, '--chain', chain.endpoint, '--json']);
    expect(checked.code, checked.stdout + checked.stderr).toBe(0);
    const result = JSON.parse(checked.stdout) as { valid: boolean; anchor: string; steps: { step: string }[] };
    expect(result.anchor).toBe('verified');
    expect(result.steps.at(-1)!.step).toBe('chain');

    // The expected signer can be pinned, by SS58 address or account id.
    const pinned = await pakit(['verify', file, '--chain', chain.endpoint, '--signer', bob.pair.address]);
    expect(pinned.code).toBe(1);
    expect(pinned.stdout).toContain(`not by the expected account ${bob.accountId}`);
    const listed = await pakit(['--data', data, 'anchors', '--json']);
    expect(JSON.parse(listed.stdout)).toMatchObject([{ size: 5, state: 'anchored', fee: row.fee }]);
  });

  it('an altered receipt or checkpoint fails chain verification, each with its reason', async () => {
    const { data, hashes } = await archiveWith(2);
    expect((await pakit(['--data', data, 'anchor', '--chain', chain.endpoint, '--suri', '//Alice'])).code).toBe(0);
    const proof = await proofOf(data, hashes[0]!);
    expect((await onChain(proof)).valid).toBe(true);
    const receipt = proof.anchor!.receipt;
    const flip = (h: string): string => h.slice(0, -1) + (h.endsWith('0') ? '1' : '0');
    const altered: [Partial<typeof receipt>, RegExp][] = [
      [{ chain: flip(receipt.chain) }, /has genesis .* the receipt names chain/],
      [{ block: flip(receipt.block) }, /block #\d+ on the chain is 0x[0-9a-f]+, the receipt names/],
      [{ blockNumber: receipt.blockNumber + 1000 }, /the chain has no block/],
      [{ blockNumber: receipt.blockNumber - 1 }, /block #\d+ on the chain is/],
      [{ extrinsicIndex: receipt.extrinsicIndex + 5 }, /has no extrinsic/],
      [{ extrinsicIndex: 0 }, /is not signed/],
      [{ signer: bob.accountId }, /is signed by 0x[0-9a-f]+, the receipt names/],
      [{ call: 'system.remark' }, /calls system\.remarkWithEvent, the receipt names system\.remark/],
      [{ args: ['root'] }, /argument 0 is .* not this checkpoint's root/],
      [{ args: ['remark', 'size'] }, /has 1 argument\(s\), the receipt maps 2/],
    ];
    for (const [change, reason] of altered) {
      const doc = { ...proof, anchor: { ...proof.anchor!, receipt: { ...receipt, ...change } } };
      // Offline, a receipt cannot be judged: the document stays valid and says the anchor is unchecked.
      expect(verifyProof(doc, { hash: nodeSha256 }).anchor).toBe('unchecked');
      const r = await onChain(doc);
      expect(r.valid, JSON.stringify(change)).toBe(false);
      expect(r.reason).toMatch(/^chain: /);
      expect(r.reason).toMatch(reason);
    }

    // A later checkpoint, genuinely signed and consistent, is still not the one on the chain.
    const more = await archiveWith(1, data);
    const later = await proofOf(more.data, hashes[0]!); // same object; the first anchored checkpoint is unchanged
    expect(later.anchor).toEqual(proof.anchor);
    const forged = { ...proof, anchor: { ...proof.anchor! } };
    const newer = await pakit(['--data', data, 'proof', more.hashes[0]!]);
    const newerCp = (JSON.parse(newer.stdout) as ProofBundleJson).checkpoint;
    const consistency = JSON.parse(
      (
        await pakit([
          '--data',
          data,
          'proof',
          '--consistency',
          String(proof.checkpoint.size),
          '--to',
          String(newerCp.size),
        ])
      ).stdout,
    ) as { path: string[] };
    forged.anchor = { ...forged.anchor, checkpoint: newerCp, consistency: consistency.path };
    expect(verifyProof(forged, { hash: nodeSha256 }).valid).toBe(true);
    const r = await onChain(forged);
    expect(r.valid).toBe(false);
    expect(r.reason).toMatch(/argument 0 is 0x[0-9a-f]+…?, not this checkpoint's remark/);
  });

  it("a remark that is not ours at the receipt's index fails", async () => {
    const { data, hashes } = await archiveWith(1);
    expect((await pakit(['--data', data, 'anchor', '--chain', chain.endpoint, '--suri', '//Alice'])).code).toBe(0);
    const proof = await proofOf(data, hashes[0]!);
    // Someone else's remark, in its own finalized block.
    const tx = client.api.tx.system.remarkWithEvent('pakit-anchor/v1 archive=00 size=1 root=00 checkpoint=00');
    const at = await new Promise<{ block: string; index: number }>((resolve, reject) => {
      void tx
        .signAndSend(bob.pair, (res) => {
          if (res.status.isFinalized) resolve({ block: res.status.asFinalized.toHex(), index: res.txIndex! });
        })
        .catch(reject);
    });
    const header = await client.api.rpc.chain.getHeader(at.block);
    const pointed = {
      ...proof,
      anchor: {
        ...proof.anchor!,
        receipt: {
          ...proof.anchor!.receipt,
          block: at.block,
          blockNumber: header.number.toNumber(),
          extrinsicIndex: at.index,
          signer: bob.accountId,
        },
      },
    };
    const r = await onChain(pointed);
    expect(r.valid).toBe(false);
    expect(r.reason).toMatch(/argument 0 is 0x70616b69742d616e63686f722f7631.*not this checkpoint's remark/);
    // …and pinned to the office's account, the wrong signer is named first.
    const pinned = await onChain(pointed, alice.accountId);
    expect(pinned.reason).toContain(`not by the expected account ${alice.accountId}`);
  });

  it('a configured call with an argument mapping, and a keystore signer', async () => {
    await cryptoWaitReady();
    const pair = new Keyring({ type: 'sr25519' }).addFromUri('//Alice');
    const keystore = join(tempDir(), 'alice.json');
    writeFileSync(keystore, JSON.stringify(pair.toJson('correct horse')));
    const { data, hashes } = await archiveWith(2);
    const args = ['--data', data, 'anchor', '--chain', chain.endpoint, '--keystore', keystore];

    const wrong = await pakit([...args], { env: { PAKIT_KEYSTORE_PASSWORD: 'wrong' } });
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain(`keystore ${keystore}: wrong password`);
    const arity = await pakit([...args, '--call', 'system.remark', '--args', 'root,size'], {
      env: { PAKIT_KEYSTORE_PASSWORD: 'correct horse' },
    });
    expect(arity.code).toBe(2);
    expect(arity.stderr).toContain('system.remark takes 1 argument(s); the mapping gives 2');
    const unknown = await pakit([...args, '--call', 'storageProof.submit'], {
      env: { PAKIT_KEYSTORE_PASSWORD: 'correct horse' },
    });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('has no call storageProof.submit');
    // Refused before anything was queued.
    expect(JSON.parse((await pakit(['--data', data, 'anchors', '--json'])).stdout)).toEqual([]);

    const ok = await pakit([...args, '--call', 'system.remark', '--args', 'remark', '--json'], {
      env: { PAKIT_KEYSTORE_PASSWORD: 'correct horse' },
    });
    expect(ok.code, ok.stderr).toBe(0);
    const proof = await proofOf(data, hashes[1]!);
    expect(proof.anchor!.receipt).toMatchObject({ call: 'system.remark', args: ['remark'], signer: alice.accountId });
    const r = await onChain(proof, alice.accountId);
    expect(r.valid, r.reason).toBe(true);
    expect(r.anchor).toBe('verified');
  });

  it('bad chain settings are refused before anything changes', async () => {
    const { data } = await archiveWith(1);
    const cases: [string[], string][] = [
      [['--chain', 'http://127.0.0.1:9944', '--suri', '//Alice'], 'must start with ws:// or wss://'],
      [['--chain', 'not a url', '--suri', '//Alice'], 'is not a URL'],
      [['--suri', '//Alice'], '--chain URL is required'],
      [['--chain', chain.endpoint], 'anchoring needs a signer'],
      [['--chain', chain.endpoint, '--suri', '//Alice', '--args', 'remark'], '--args maps the arguments of --call'],
      [
        ['--chain', chain.endpoint, '--suri', '//Alice', '--call', 'x.y', '--args', 'nonce'],
        'unknown argument "nonce"',
      ],
    ];
    for (const [flags, message] of cases) {
      const r = await pakit(['--data', data, 'anchor', ...flags], { env: { PAKIT_SURI: '' } });
      expect(r.code, flags.join(' ')).toBe(2);
      expect(r.stderr).toContain(message);
    }
    expect(JSON.parse((await pakit(['--data', data, 'anchors', '--json'])).stdout)).toEqual([]);
  });
});

describe('the anchoring policy', () => {
  it('the chain down at anchor time: queued, then anchored once it is back', async () => {
    const second = await startLocalChain();
    const port = second.port;
    await second.close();
    const archive = await Archive.open({ dir: tempDir() });
    const src = tempDir();
    writeFileSync(join(src, 'a.txt'), 'queued while the chain is down\n');
    const [stored] = (await archive.store([join(src, 'a.txt')])).results;
    const anchorer = Anchorer.start({
      archive,
      endpoint: `ws://127.0.0.1:${port}`,
      signer: alice,
      retry: { firstMs: 200, maxMs: 1000 },
      timeoutMs: 5000,
    });
    const seen: AnchorStatus[] = [];
    anchorer.onStatus((s) => seen.push(s));
    let back: LocalChain | undefined;
    try {
      const first = await anchorer.anchorNow();
      expect(first.state).toBe('queued');
      expect(first.lastError).toMatch(/cannot reach the chain at ws:\/\/127\.0\.0\.1:\d+/);
      expect(anchorer.status.state).toBe('waiting');
      expect(anchorer.status.pending).toMatchObject({ size: first.size, attempts: 1 });

      back = await startLocalChain({ port });
      const anchored = await statusWhere(anchorer, (s) => s.last?.size === first.size);
      expect(anchored.pending).toBeNull();
      expect(seen.some((s) => s.state === 'waiting' && (s.pending?.attempts ?? 0) >= 1)).toBe(true);
      const row = new AnchorStore(archive.ctx.db).get(first.size)!;
      expect(row.state).toBe('anchored');
      expect(row.attempts).toBeGreaterThanOrEqual(2);

      const proof = archive.proof(stored!.hash);
      const reader = await ChainClient.connect(back.endpoint);
      try {
        const r = await verifyProofOnChain(proof, reader, { hash: nodeSha256 });
        expect(r.valid, r.reason).toBe(true);
      } finally {
        await reader.close();
      }
    } finally {
      await anchorer.close();
      await archive.close();
      await back?.close();
    }
  });

  it('every M new blocks one transaction anchors one checkpoint, however many objects it covers', async () => {
    const archive = await Archive.open({ dir: tempDir() });
    const src = tempDir();
    const files = Array.from({ length: 30 }, (_, i) => {
      const f = join(src, `f${i}.txt`);
      writeFileSync(f, `object ${i}\n`);
      return f;
    });
    // The first ten are checkpointed on their own (not anchored), then twenty more arrive.
    const early = (await archive.store(files.slice(0, 10))).results;
    const earlyCp = archive.checkpoint();
    const late = (await archive.store(files.slice(10))).results;
    const anchorer = Anchorer.start({
      archive,
      endpoint: chain.endpoint,
      signer: alice,
      policy: { everyBlocks: 20, everyMs: 3_600_000 },
    });
    try {
      const s = await statusWhere(anchorer, (st) => st.last !== null);
      const rows = new AnchorStore(archive.ctx.db).list();
      expect(rows.filter((r) => r.state === 'anchored')).toHaveLength(1);
      expect(s.last!.size).toBe(archive.ctx.index.size());
      const results = [...early, ...late];
      const receipts = new Set(results.map((r) => JSON.stringify(archive.proof(r.hash).anchor!.receipt)));
      expect(receipts.size).toBe(1);
      const blk = await client.api.rpc.chain.getBlock(s.last!.block);
      const ours = blk.block.extrinsics.filter(
        (x) => x.isSigned && u8aToHex(x.signer.toU8a().slice(1)) === alice.accountId,
      );
      expect(ours).toHaveLength(1);

      // An early object is proven against its own (first) checkpoint, and the anchor extends it.
      const proof = archive.proof(early[0]!.hash);
      expect(proof.checkpoint.size).toBe(earlyCp.size);
      expect(proof.anchor!.checkpoint.size).toBe(s.last!.size);
      expect(proof.anchor!.consistency.length).toBeGreaterThan(0);
      const r = await verifyProofOnChain(proof, client, { hash: nodeSha256 });
      expect(r.valid, r.reason).toBe(true);
      expect(r.anchor).toBe('verified');
    } finally {
      await anchorer.close();
      await archive.close();
    }
  });

  it('every N minutes, when there is anything new', async () => {
    const archive = await Archive.open({ dir: tempDir() });
    const anchorer = Anchorer.start({
      archive,
      endpoint: chain.endpoint,
      signer: alice,
      policy: { everyBlocks: 1_000_000, everyMs: 300 },
    });
    try {
      const src = tempDir();
      writeFileSync(join(src, 'one.txt'), 'one new object, far below the block threshold\n');
      await archive.store([join(src, 'one.txt')]);
      const s = await statusWhere(anchorer, (st) => st.last?.size === archive.ctx.index.size());
      expect(s.state).toBe('idle');
      // Nothing new: the timer queues nothing more.
      await new Promise((r) => setTimeout(r, 2500));
      expect(new AnchorStore(archive.ctx.db).list()).toHaveLength(1);
    } finally {
      await anchorer.close();
      await archive.close();
    }
  });
});
