/**
 * The anchoring policy, run inside a node: every `everyMs` or every `everyBlocks` new blocks,
 * whichever comes first, the log is checkpointed and the checkpoint queued; the queue is sent to
 * the chain, and while the chain is unreachable it waits and retries with exponential backoff.
 * Queued checkpoints live in the archive (AnchorStore), so a restart loses nothing.
 */
import type { Archive } from '../archive/archive.js';
import { AnchorStore, type AnchorRow } from '../archive/anchors.js';
import { checkpointAt } from '../archive/checkpoints.js';
import { DEFAULT_ANCHOR_CALL } from '../../shared/anchor.js';
import { type CallSpec, ChainClient, ChainConfigError, ChainRefusedError } from './chain-client.js';
import type { Signer } from './signer.js';

export interface AnchorPolicy {
  /** Anchor at least this often while new blocks arrive (ms). */
  readonly everyMs: number;
  /** …or as soon as this many blocks arrived since the last anchored or queued checkpoint. */
  readonly everyBlocks: number;
}

const DEFAULT_POLICY: AnchorPolicy = { everyMs: 10 * 60_000, everyBlocks: 1000 };
const DEFAULT_CALL: CallSpec = { call: DEFAULT_ANCHOR_CALL, args: ['remark'] };

export interface AnchorerOptions {
  readonly archive: Archive;
  readonly endpoint: string;
  readonly signer: Signer;
  readonly call?: CallSpec;
  readonly policy?: Partial<AnchorPolicy>;
  /** Backoff after a failed attempt: first delay, doubling up to max (ms). */
  readonly retry?: { readonly firstMs: number; readonly maxMs: number };
  /** How long one attempt may wait for connection and finality (ms). */
  readonly timeoutMs?: number;
  readonly now?: () => number;
  /** A connection already made (the CLI checks the call on it before queueing anything). */
  readonly client?: ChainClient;
}

export type AnchorerState = 'idle' | 'anchoring' | 'waiting' | 'stopped';

export interface AnchorStatus {
  readonly state: AnchorerState;
  readonly endpoint: string;
  readonly signer: string;
  /** The checkpoint waiting for the chain, if any. */
  readonly pending: {
    readonly size: number;
    readonly attempts: number;
    readonly nextAttempt: number | null;
    readonly lastError: string | null;
  } | null;
  readonly last: {
    readonly size: number;
    readonly blockNumber: number;
    readonly block: string;
    readonly fee: string;
    readonly chainTime: number | null;
  } | null;
}

/** How often the policy looks at the log when nothing is due sooner. */
const TICK_MS = 2000;

export class Anchorer {
  readonly #archive: Archive;
  readonly #store: AnchorStore;
  readonly #endpoint: string;
  readonly #signer: Signer;
  readonly #call: CallSpec;
  readonly #policy: AnchorPolicy;
  readonly #retry: { firstMs: number; maxMs: number };
  readonly #timeoutMs: number;
  readonly #now: () => number;
  readonly #listeners = new Set<(s: AnchorStatus) => void>();
  #client: ChainClient | undefined;
  #timer: NodeJS.Timeout | undefined;
  #state: AnchorerState = 'idle';
  #busy: Promise<unknown> = Promise.resolve();
  #lastQueuedAt: number;

  private constructor(o: AnchorerOptions) {
    this.#archive = o.archive;
    this.#store = new AnchorStore(o.archive.ctx.db);
    this.#endpoint = o.endpoint;
    this.#signer = o.signer;
    this.#call = o.call ?? DEFAULT_CALL;
    this.#policy = { ...DEFAULT_POLICY, ...o.policy };
    this.#retry = o.retry ?? { firstMs: 2000, maxMs: 5 * 60_000 };
    this.#timeoutMs = o.timeoutMs ?? 60_000;
    this.#now = o.now ?? Date.now;
    this.#client = o.client;
    const newest = this.#store.list(1)[0];
    this.#lastQueuedAt = newest?.queuedAt ?? this.#now();
  }

  /** Starts the policy loop (a queue left by an earlier run is sent first). */
  static start(o: AnchorerOptions): Anchorer {
    const a = new Anchorer(o);
    a.#schedule(0);
    return a;
  }

  /** One instance for a single anchor now (the CLI): no loop. */
  static once(o: AnchorerOptions): Anchorer {
    return new Anchorer(o);
  }

  get status(): AnchorStatus {
    const p = this.#store.pending();
    const l = this.#store.latestAnchored();
    return {
      state: this.#state,
      endpoint: this.#endpoint,
      signer: this.#signer.accountId,
      pending: p ? { size: p.size, attempts: p.attempts, nextAttempt: p.nextAttempt, lastError: p.lastError } : null,
      last:
        l && l.receipt
          ? {
              size: l.size,
              blockNumber: l.receipt.blockNumber,
              block: l.receipt.block,
              fee: l.fee ?? '0',
              chainTime: l.chainTime,
            }
          : null,
    };
  }

  onStatus(fn: (s: AnchorStatus) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  /**
   * Checkpoints the log now, queues it and sends it at once. Resolves with the row: anchored, or
   * still queued with the error (it will be retried by the loop, if one runs).
   */
  anchorNow(): Promise<AnchorRow> {
    return this.#exclusive(async () => {
      const row = this.#queueLatest();
      return this.#attempt(row);
    });
  }

  async close(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#state = 'stopped';
    await this.#busy.catch(() => undefined);
    await this.#client?.close();
    this.#client = undefined;
    this.#emit();
  }

  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#busy.then(fn, fn);
    this.#busy = run.catch(() => undefined);
    return run;
  }

  #queueLatest(): AnchorRow {
    const cp = this.#archive.checkpoint();
    const existing = this.#store.get(cp.size);
    if (existing?.state === 'anchored') return existing;
    this.#lastQueuedAt = this.#now();
    const row = this.#store.queue(cp.size, this.#lastQueuedAt);
    this.#emit();
    return row;
  }

  /** Whether the policy calls for a new checkpoint to be queued now. */
  #due(): boolean {
    const size = this.#archive.ctx.index.size();
    const covered = this.#store.list(1)[0]?.size ?? 0;
    if (size <= covered) return false;
    if (size - covered >= this.#policy.everyBlocks) return true;
    return this.#now() - this.#lastQueuedAt >= this.#policy.everyMs;
  }

  #schedule(ms: number): void {
    if (this.#state === 'stopped') return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.#exclusive(() => this.#tick()), ms);
    this.#timer.unref();
  }

  async #tick(): Promise<void> {
    if (this.#state === 'stopped') return;
    if (this.#due()) this.#queueLatest();
    const p = this.#store.pending();
    if (p && (p.nextAttempt ?? 0) <= this.#now()) await this.#attempt(p);
    const next = this.#store.pending()?.nextAttempt;
    this.#schedule(next == null ? TICK_MS : Math.max(0, Math.min(TICK_MS, next - this.#now())));
  }

  async #attempt(row: AnchorRow): Promise<AnchorRow> {
    if (this.#state === 'stopped') return row;
    this.#state = 'anchoring';
    this.#emit();
    try {
      if (!this.#client?.connected) {
        await this.#client?.close();
        this.#client = undefined;
        this.#client = await ChainClient.connect(this.#endpoint, Math.min(this.#timeoutMs, 10_000));
      }
      const cp = checkpointAt(this.#archive.ctx, row.size)!;
      const result = await this.#client.anchor(this.#signer.pair, cp, this.#call, this.#timeoutMs);
      const done = this.#store.anchored(row.size, result, this.#now());
      this.#state = 'idle';
      return done;
    } catch (e) {
      // A refused or misconfigured call is not cured by reconnecting; an unreachable chain may be.
      if (!(e instanceof ChainRefusedError || e instanceof ChainConfigError)) {
        await this.#client?.close();
        this.#client = undefined;
      }
      const delay = Math.min(this.#retry.maxMs, this.#retry.firstMs * 2 ** Math.min(row.attempts, 20));
      this.#store.failed(row.size, (e as Error).message, this.#now() + delay);
      this.#state = 'waiting';
      return this.#store.get(row.size)!;
    } finally {
      this.#emit();
    }
  }

  #emit(): void {
    if (this.#listeners.size === 0) return;
    const s = this.status;
    for (const l of this.#listeners) l(s);
  }
}
