/**
 * One connection to a Substrate chain (@polkadot/api): anchors a signed checkpoint with one
 * extrinsic and waits for finality, and reads a receipt's block back for verification. What it
 * reads is judged by shared/anchor.ts, never here.
 */
import { ApiPromise, WsProvider } from '@polkadot/api';
import type { SubmittableResult } from '@polkadot/api';
import type { KeyringPair } from '@polkadot/keyring/types';
import type { EventRecord } from '@polkadot/types/interfaces';
import type { Codec } from '@polkadot/types/types';
import { u8aToHex } from '@polkadot/util';
import { decodeAddress } from '@polkadot/util-crypto';
import {
  type AnchorArg,
  type AnchorReceipt,
  type ArgValue,
  type ChainFacts,
  type ChainReader,
  anchorArgValue,
} from '../../shared/anchor.js';
import type { SignedCheckpoint } from '../../shared/checkpoint.js';
import type { AnchoredResult } from '../archive/anchors.js';
import { nodeSha256 } from '../util/sha256.js';
import { ChainConfigError, checkEndpoint } from './endpoint.js';

export { ChainConfigError, checkEndpoint } from './endpoint.js';

/** The chain could not be reached, or did not answer in time. */
export class ChainUnreachableError extends Error {
  override readonly name = 'ChainUnreachableError';
  readonly code = 'ERR_CHAIN_UNREACHABLE';
}

/** The chain answered, but refused or failed the anchoring transaction. */
export class ChainRefusedError extends Error {
  override readonly name = 'ChainRefusedError';
  readonly code = 'ERR_CHAIN_REFUSED';
}

/** A call and what each of its positional arguments carries (shared/anchor.ts ANCHOR_ARGS). */
export interface CallSpec {
  readonly call: string;
  readonly args: readonly AnchorArg[];
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ChainUnreachableError(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** The account id behind an address or signer field, as 0x hex. */
function accountId(address: string): string {
  return u8aToHex(decodeAddress(address));
}

/** An extrinsic argument as shared/anchor.ts compares it: raw bytes or an integer. */
function argValue(a: Codec): ArgValue {
  let v = a as Codec & { unwrap?: () => Codec; toBigInt?: () => bigint };
  if (v.constructor.name.startsWith('Compact') && typeof v.unwrap === 'function') v = v.unwrap() as typeof v;
  if (typeof v.toBigInt === 'function') return { integer: v.toBigInt().toString() };
  // Bytes, Vec<u8>, H256 and [u8; N] are Uint8Arrays holding their raw content.
  if (v instanceof Uint8Array) return { bytes: u8aToHex(v) };
  return { bytes: v.toHex() };
}

export class ChainClient implements ChainReader {
  readonly endpoint: string;
  readonly api: ApiPromise;

  private constructor(endpoint: string, api: ApiPromise) {
    this.endpoint = endpoint;
    this.api = api;
  }

  /** Connects, or fails with {@link ChainUnreachableError} (no endless reconnecting). */
  static async connect(endpoint: string, timeoutMs = 10_000): Promise<ChainClient> {
    checkEndpoint(endpoint);
    const provider = new WsProvider(endpoint, false, {}, timeoutMs);
    try {
      await provider.connect();
      const api = await withTimeout(
        ApiPromise.create({ provider, throwOnConnect: true, noInitWarn: true }),
        timeoutMs,
        `connecting to ${endpoint}`,
      );
      return new ChainClient(endpoint, api);
    } catch (e) {
      await provider.disconnect().catch(() => undefined);
      if (e instanceof ChainUnreachableError) throw e;
      throw new ChainUnreachableError(`cannot reach the chain at ${endpoint}: ${(e as Error).message}`);
    }
  }

  get genesisHash(): string {
    return this.api.genesisHash.toHex();
  }

  get connected(): boolean {
    return this.api.isConnected;
  }

  /**
   * Anchors `cp` with one extrinsic signed by `pair`, waits until its block is finalized, and
   * returns the receipt, the fee paid and the block's timestamp.
   */
  async anchor(pair: KeyringPair, cp: SignedCheckpoint, spec: CallSpec, timeoutMs = 120_000): Promise<AnchoredResult> {
    const fn = this.checkCall(spec);
    const values = spec.args.map((a) => {
      const v = anchorArgValue(a, cp, nodeSha256);
      return 'bytes' in v ? v.bytes : BigInt(v.integer);
    });
    const result = await this.#submitFinalized(fn(...values), pair, timeoutMs);
    const block = result.status.asFinalized.toHex();
    const signed = await this.api.rpc.chain.getBlock(block);
    const signer = accountId(pair.address);
    return {
      endpoint: this.endpoint,
      receipt: {
        chain: this.genesisHash,
        block,
        blockNumber: signed.block.header.number.toNumber(),
        extrinsicIndex: result.txIndex!,
        signer,
        call: spec.call,
        args: [...spec.args],
      },
      fee: feePaid(result, signer),
      chainTime: blockTimestamp(signed.block.extrinsics),
    };
  }

  /** The chain's call for `spec`; a call the runtime lacks, or a mapping of the wrong arity, is a config error. */
  checkCall(spec: CallSpec): ApiPromise['tx'][string][string] {
    const [section, method] = spec.call.split('.') as [string, string];
    const fn = this.api.tx[section]?.[method];
    if (!fn) throw new ChainConfigError(`the chain at ${this.endpoint} has no call ${spec.call}`);
    if (fn.meta.args.length !== spec.args.length)
      throw new ChainConfigError(
        `${spec.call} takes ${fn.meta.args.length} argument(s); the mapping gives ${spec.args.length}`,
      );
    return fn;
  }

  #submitFinalized(
    tx: ReturnType<ApiPromise['tx'][string][string]>,
    pair: KeyringPair,
    timeoutMs: number,
  ): Promise<SubmittableResult> {
    return new Promise((resolve, reject) => {
      let unsub: (() => void) | undefined;
      let done = false;
      const finish = (err: Error | undefined, r?: SubmittableResult): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        unsub?.();
        if (err) reject(err);
        else resolve(r!);
      };
      const timer = setTimeout(
        () => finish(new ChainUnreachableError(`no finalized block within ${timeoutMs} ms`)),
        timeoutMs,
      );
      tx.signAndSend(pair, { nonce: -1 }, (r: SubmittableResult) => {
        if (r.dispatchError) finish(new ChainRefusedError(`the call failed on chain: ${this.#describe(r)}`));
        else if (r.status.isFinalized) finish(undefined, r);
        else if (r.status.isInvalid || r.status.isDropped || r.status.isUsurped || r.status.isFinalityTimeout)
          finish(new ChainRefusedError(`the transaction was ${r.status.type.toLowerCase()}`));
      })
        .then((u) => {
          unsub = u;
          if (done) u();
        })
        .catch((e: unknown) => {
          const msg = (e as Error).message;
          finish(
            this.api.isConnected
              ? new ChainRefusedError(`the chain refused the transaction: ${msg}`)
              : new ChainUnreachableError(`lost the chain at ${this.endpoint}: ${msg}`),
          );
        });
    });
  }

  #describe(r: SubmittableResult): string {
    const e = r.dispatchError!;
    if (e.isModule) {
      const m = this.api.registry.findMetaError(e.asModule);
      return `${m.section}.${m.name}: ${m.docs.join(' ')}`;
    }
    return e.toString();
  }

  async readAnchor(receipt: AnchorReceipt): Promise<ChainFacts> {
    const rpc = this.api.rpc.chain;
    const finalizedNumber = (await rpc.getHeader(await rpc.getFinalizedHead())).number.toNumber();
    const best = (await rpc.getHeader()).number.toNumber();
    const facts = {
      endpoint: this.endpoint,
      genesisHash: this.genesisHash,
      blockNumber: receipt.blockNumber,
      extrinsicIndex: receipt.extrinsicIndex,
      finalizedNumber,
    };
    if (receipt.blockNumber > best) return { ...facts, blockHash: null, timestamp: null, extrinsic: null };
    const blockHash = (await rpc.getBlockHash(receipt.blockNumber)).toHex();
    const signed = await rpc.getBlock(blockHash);
    const exts = signed.block.extrinsics;
    const timestamp = blockTimestamp(exts);
    const x = exts[receipt.extrinsicIndex];
    if (!x) return { ...facts, blockHash, timestamp, extrinsic: null };
    return {
      ...facts,
      blockHash,
      timestamp,
      extrinsic: {
        signer: x.isSigned ? accountId(x.signer.toString()) : null,
        call: `${x.method.section}.${x.method.method}`,
        args: x.method.args.map(argValue),
        success: await this.#dispatched(blockHash, receipt.extrinsicIndex),
      },
    };
  }

  /** Whether extrinsic `index` of the block dispatched successfully; null when the node no longer has its state. */
  async #dispatched(blockHash: string, index: number): Promise<boolean | null> {
    let records: EventRecord[];
    try {
      records = (await (await this.api.at(blockHash)).query.system.events()) as unknown as EventRecord[];
    } catch {
      return null;
    }
    for (const { phase, event } of records) {
      if (!phase.isApplyExtrinsic || phase.asApplyExtrinsic.toNumber() !== index) continue;
      if (this.api.events.system.ExtrinsicSuccess.is(event)) return true;
      if (this.api.events.system.ExtrinsicFailed.is(event)) return false;
    }
    return null;
  }

  async close(): Promise<void> {
    await this.api.disconnect().catch(() => undefined);
  }
}

/** The block's `timestamp.set` value (ms), when it has one. */
function blockTimestamp(
  exts: readonly { method: { section: string; method: string; args: Codec[] } }[],
): number | null {
  const t = exts.find((x) => x.method.section === 'timestamp' && x.method.method === 'set');
  const v = t?.method.args[0] as (Codec & { toNumber?: () => number; unwrap?: () => Codec }) | undefined;
  if (!v) return null;
  const n = (typeof v.unwrap === 'function' ? v.unwrap() : v) as Codec & { toNumber?: () => number };
  return typeof n.toNumber === 'function' ? n.toNumber() : null;
}

/**
 * The fee the signer paid for this extrinsic, from its events: `TransactionFeePaid` (or the asset
 * variant) when the runtime emits it, otherwise what was withdrawn from the signer less refunds.
 */
function feePaid(r: SubmittableResult, signer: string): bigint {
  let withdrawn = 0n;
  let refunded = 0n;
  for (const { event } of r.events) {
    const name = `${event.section}.${event.method}`;
    const data = event.data as unknown as Codec[];
    const big = (c: Codec | undefined): bigint => BigInt((c as Codec & { toString(): string }).toString());
    if (name === 'transactionPayment.TransactionFeePaid' || name === 'assetTxPayment.AssetTxFeePaid')
      return big(data[1]) + big(data[2]);
    const who = data[0] ? accountIdOrNull(data[0].toString()) : null;
    if (name === 'balances.Withdraw' && who === signer) withdrawn += big(data[1]);
    if (name === 'balances.Deposit' && who === signer) refunded += big(data[1]);
  }
  return withdrawn - refunded;
}

function accountIdOrNull(s: string): string | null {
  try {
    return accountId(s);
  } catch {
    return null;
  }
}
