import type { MessagePort, TransferListItem, Worker } from 'node:worker_threads';
import { deferred, type Deferred } from '../util/deferred.js';
import type { ToWorker } from './ingest-protocol.js';

/** What a chunk of a group already sealed carries. */
const SETTLED = Promise.resolve();

/**
 * One ingest worker as the pool sees it: its thread, the jobs handed to it (of type `J`), the
 * messages queued for it, and the groups of small chunks its batches name before they are stored.
 */
export class WorkerSlot<J> {
  /** Jobs handed to the worker, the running one first. */
  readonly jobs: J[] = [];
  lastError: Error | undefined;
  /** Armed while the worker has nothing to do: then it is asked whether it may stop. */
  retireTimer: NodeJS.Timeout | undefined;
  /** Stopped for having nothing to do (nothing waits on it, so its exit fails nothing). */
  retired = false;
  /** Out of the pool (retired, exited, or the pool closed): nothing more is sent to it. */
  left = false;
  /** Messages to send together at the end of this tick (see post). */
  #outbox: ToWorker[] = [];
  #transfers: TransferListItem[] = [];
  /** Buffers to hand back at the end of this tick, in one message on the worker's return port. */
  #returned: ArrayBuffer[] = [];
  /** The worker's groups up to this token are sealed and stored (-1: none yet). */
  #sealedUpTo = -1;
  /** Chunks wait on these groups; the worker stays ref'ed (the process alive) while any do. */
  readonly #waiting = new Map<number, Deferred>();
  /** Why the worker's later groups will never come (it exited, or the pool closed). */
  #gone: Error | undefined;

  /**
   * @param returns Where buffers go back to the worker: the pool sends the other end of the channel
   *   to it in a `returns` message.
   */
  constructor(
    readonly worker: Worker,
    readonly returns: MessagePort,
  ) {}

  /** Whether anything waits on the worker: a job, or a chunk in a group it has not sent yet. */
  get busy(): boolean {
    return this.jobs.length > 0 || this.#waiting.size > 0;
  }

  /**
   * Queues a message for the worker; everything queued in the same tick leaves in one postMessage
   * (one wake-up of the worker) — a dispatch handing out several small files, for instance.
   */
  post(m: ToWorker, transfer: readonly TransferListItem[] = []): void {
    if (this.#outbox.length === 0) {
      queueMicrotask(() => {
        const out = this.#outbox;
        const transfers = this.#transfers;
        this.#outbox = [];
        this.#transfers = [];
        if (out.length > 0 && !this.left) this.worker.postMessage(out, transfers);
      });
    }
    this.#outbox.push(m);
    this.#transfers.push(...transfer);
  }

  /**
   * Hands a buffer back to the worker that filled it, for its next batch or group (BufferPool): its
   * bytes are written by now, and the views made of it here become empty.
   */
  giveBack(buf: ArrayBuffer): void {
    if (this.#returned.length === 0) {
      queueMicrotask(() => {
        const bufs = this.#returned;
        this.#returned = [];
        if (!this.left) this.returns.postMessage(bufs, bufs);
      });
    }
    this.#returned.push(buf);
  }

  /** The promise a chunk in the worker's group `token` carries (see IngestedChunk.grouped). */
  sealed(token: number): Promise<void> {
    if (token <= this.#sealedUpTo) return SETTLED;
    if (this.#gone) return Promise.reject(this.#gone);
    let d = this.#waiting.get(token);
    if (!d) {
      d = deferred();
      this.#waiting.set(token, d);
      this.worker.ref();
    }
    return d.promise;
  }

  /** Group `token` was stored: the chunks waiting on it may go on. */
  groupStored(token: number): void {
    this.#sealedUpTo = token;
    const d = this.#waiting.get(token);
    this.#waiting.delete(token);
    d?.resolve();
  }

  /** Group `token` could not be stored: the chunks waiting on it fail, as would a later lookup. */
  groupFailed(token: number, err: unknown): void {
    this.#sealedUpTo = token;
    const d = this.#waiting.get(token);
    this.#waiting.delete(token);
    d?.reject(err);
  }

  /** The worker's open groups will never come: fail every chunk waiting on them. */
  loseGroups(err: Error): void {
    this.#gone = err;
    for (const d of this.#waiting.values()) d.reject(err);
    this.#waiting.clear();
  }
}
