import { availableParallelism } from 'node:os';
import { MessageChannel, Worker } from 'node:worker_threads';
import { ChunkEncoder } from './compression.js';
import { validateChunkerParams } from './gear-chunker.js';
import {
  decodeBatch,
  decodeGroup,
  deserializeError,
  workerData,
  type BatchMessage,
  type FromWorker,
  type IngestWorkerData,
  type ToWorker,
} from './ingest-protocol.js';
import { ingestWorkerUrl, takePrestarted } from './prestart.js';
import { feedStream } from './stream-feed.js';
import { WorkerSlot } from './worker-slot.js';
import { onAbort } from '../util/on-abort.js';
import { IngestPoolClosedError, IngestWorkerCrashedError } from './types.js';
import type {
  FileInfo,
  IngestJob,
  IngestPool,
  IngestPoolInit,
  IngestResult,
  IngestSink,
  OnIngestBatch,
  SealedGroup,
} from './types.js';

/**
 * File jobs handed to one worker at once: it runs them one by one, but has the next at hand when one
 * ends instead of idling while the main thread is busy (a slice of appends, say). A small file takes
 * a worker ~0.1 ms: 4 ran dry within any main-thread task, 16 left workers waiting ~30 % of a store,
 * 48 was 3–13 % faster than 16, and 96 is 2–3 % faster than 48 for ~10 MB more (the corpus
 * in-process, five alternating runs: 4.63–4.65 s against 4.72–5.03 s; event-loop p99 33–38 ms
 * against 27–34; the measurements of each step are in git history and docs/BENCHMARKS.md).
 * Stream jobs only go to idle workers: a queued stream would hold its window of bytes in the worker
 * meanwhile.
 */
const WORKER_DEPTH = 96;

type Slot = WorkerSlot<Job>;

interface Job extends IngestJob {
  /** A file's path, or the stream of bytes to ingest. */
  readonly input: string | AsyncIterable<Uint8Array>;
  readonly sink: IngestSink;
  /** Undoes what a caller's AbortSignal was given (its listener), once the job ends. */
  cleanup: (() => void) | undefined;
  settled: boolean;
  /**
   * Batch handling still under way, when an onBatch returned a promise: each batch waits for the
   * previous one's. Undefined when idle, and a batch is then handled at once, without a promise
   * (the usual case: a small file's only batch).
   */
  chain: Promise<void> | undefined;
  slot?: Slot;
  /** Stream bytes sent and not yet consumed by the worker; the feeder waits on `wakeFeeder`. */
  inflight: number;
  wakeFeeder?: () => void;
}

/** An IngestSink for the promise-returning calls: a batch goes to `onBatch`, the end settles the promise. */
class PromiseSink implements IngestSink {
  constructor(
    readonly onBatch: OnIngestBatch,
    readonly resolve: (r: IngestResult) => void,
    readonly failed: (e: unknown) => void,
  ) {}

  ingested(size: number, stat: FileInfo | undefined): void {
    this.resolve(stat ? { size, stat } : { size });
  }
}

class WorkerIngestPool implements IngestPool {
  readonly #data: IngestWorkerData;
  readonly #max: number;
  readonly #slots: Slot[] = [];
  readonly #queue: Job[] = [];
  readonly #onGroup: ((g: SealedGroup) => void) | undefined;
  readonly #idleRetireMs: number;
  /** Worker threads started and not yet exited (a stopped one counts until its thread is gone). */
  readonly #live = new Set<Worker>();
  #nextJob = 1;
  #closed = false;

  constructor(init: IngestPoolInit) {
    validateChunkerParams(init.params);
    new ChunkEncoder(init.zstdLevel); // throws on a bad level here rather than in every worker
    this.#data = workerData(init);
    this.#onGroup = init.onGroup;
    this.#max = Math.max(1, init.workers ?? availableParallelism());
    this.#idleRetireMs = init.idleRetireMs ?? 30_000;
  }

  get size(): number {
    return this.#max;
  }

  get running(): number {
    return this.#live.size;
  }

  ingestFile(path: string, onBatch: OnIngestBatch, signal?: AbortSignal): Promise<IngestResult> {
    return this.#submit(path, onBatch, signal);
  }

  ingestStream(source: AsyncIterable<Uint8Array>, onBatch: OnIngestBatch, signal?: AbortSignal): Promise<IngestResult> {
    return this.#submit(source, onBatch, signal);
  }

  startFile(path: string, sink: IngestSink): IngestJob {
    const job = this.#job(path, sink);
    if (this.#closed) {
      queueMicrotask(() => this.#fail(job, new IngestPoolClosedError('the ingest pool was closed')));
      return job;
    }
    this.#queue.push(job);
    this.#dispatch();
    return job;
  }

  cancel(job: IngestJob, reason: unknown): void {
    this.#fail(job as Job, reason);
  }

  async close(): Promise<void> {
    this.#closed = true;
    const err = new IngestPoolClosedError('the ingest pool was closed');
    for (const job of [...this.#queue]) this.#fail(job, err);
    for (const slot of this.#slots) for (const job of [...slot.jobs]) this.#fail(job, err);
    for (const slot of this.#slots) slot.loseGroups(err);
    const slots = this.#slots.splice(0);
    for (const slot of slots) {
      slot.left = true;
      clearTimeout(slot.retireTimer);
    }
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }

  /** Test hook: makes one busy worker (or any) exit as if it crashed. */
  crashWorkerForTest(): void {
    const slot = this.#slots.find((s) => s.jobs.length > 0) ?? this.#slots[0];
    slot?.worker.postMessage([{ t: 'crash' }] satisfies ToWorker[]);
  }

  #job(input: Job['input'], sink: IngestSink): Job {
    return {
      id: this.#nextJob++,
      input,
      sink,
      cleanup: undefined,
      settled: false,
      chain: undefined,
      inflight: 0,
    };
  }

  #submit(input: Job['input'], onBatch: OnIngestBatch, signal?: AbortSignal): Promise<IngestResult> {
    if (this.#closed) return Promise.reject(new IngestPoolClosedError('the ingest pool was closed'));
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const job = this.#job(input, new PromiseSink(onBatch, resolve, reject));
      if (signal) job.cleanup = onAbort(signal, (reason) => this.#fail(job, reason));
      this.#queue.push(job);
      this.#dispatch();
    });
  }

  #dispatch(): void {
    while (this.#queue.length > 0 && !this.#closed) {
      const job = this.#queue[0]!;
      const depth = typeof job.input === 'string' ? WORKER_DEPTH : 1;
      // An idle worker first, then a new one, and only then the least busy one.
      const slot =
        this.#slots.find((s) => s.jobs.length === 0) ??
        (this.#slots.length < this.#max ? this.#spawn() : undefined) ??
        this.#slots.reduce<Slot | undefined>(
          (best, s) => (s.jobs.length < (best?.jobs.length ?? depth) ? s : best),
          undefined,
        );
      if (!slot) return;
      this.#queue.shift();
      this.#start(slot, job);
    }
  }

  #spawn(): Slot {
    const early = takePrestarted();
    const worker = early ?? new Worker(ingestWorkerUrl(), { workerData: this.#data });
    const { port1: returns, port2: theirs } = new MessageChannel();
    const slot: Slot = new WorkerSlot(worker, returns);
    worker.on('message', (ms: FromWorker[]) => {
      for (const m of ms) this.#onMessage(slot, m);
    });
    worker.on('error', (e) => (slot.lastError = e));
    this.#live.add(worker);
    worker.on('exit', (code) => {
      this.#live.delete(worker);
      this.#onExit(slot, code);
    });
    // An idle pool must not keep the process alive; a busy worker is ref'ed while it works.
    worker.unref();
    this.#slots.push(slot);
    // A prestarted worker's settings go first, in one message with the jobs of this tick.
    if (early) slot.post({ t: 'init', data: this.#data });
    slot.post({ t: 'returns', port: theirs }, [theirs]);
    return slot;
  }

  #start(slot: Slot, job: Job): void {
    clearTimeout(slot.retireTimer);
    slot.retireTimer = undefined;
    slot.jobs.push(job);
    job.slot = slot;
    slot.worker.ref();
    const input = job.input;
    if (typeof input === 'string') {
      slot.post({ t: 'file', job: job.id, path: input });
    } else {
      slot.post({ t: 'stream', job: job.id });
      void feedStream(
        job,
        input,
        (buf, length) => slot.post({ t: 'data', job: job.id, buf, length }, [buf]),
        () => slot.post({ t: 'end', job: job.id }),
        (e) => this.#fail(job, e),
      );
    }
  }

  #takeGroup(slot: Slot, m: Extract<FromWorker, { t: 'group' }>): void {
    try {
      this.#onGroup!(decodeGroup(m));
      slot.giveBack(m.frame);
      slot.groupStored(m.token);
    } catch (e) {
      slot.groupFailed(m.token, e);
    }
    this.#idle(slot);
  }

  /**
   * When the worker has nothing left to do, it no longer keeps the process alive, and if it stays
   * so for idleRetireMs it is asked whether it may stop (it may still hold an open group).
   */
  #idle(slot: Slot): void {
    if (slot.busy) return;
    slot.worker.unref();
    if (this.#idleRetireMs > 0 && !slot.retireTimer && !this.#closed)
      slot.retireTimer = setTimeout(() => slot.post({ t: 'idle?' }), this.#idleRetireMs).unref();
  }

  /**
   * The worker's answer to `idle?`. Idle, and still without a job here (one may have been handed
   * to it since it answered), it is stopped: it leaves the pool first, so nothing more goes to it.
   */
  #retire(slot: Slot, idle: boolean): void {
    slot.retireTimer = undefined;
    if (!idle || slot.busy) {
      this.#idle(slot);
      return;
    }
    const i = this.#slots.indexOf(slot);
    if (i < 0) return;
    this.#slots.splice(i, 1);
    slot.left = true;
    slot.retired = true;
    void slot.worker.terminate();
  }

  #onMessage(slot: Slot, m: FromWorker): void {
    if (m.t === 'group') {
      this.#takeGroup(slot, m);
      return;
    }
    if (m.t === 'idle') {
      this.#retire(slot, m.idle);
      return;
    }
    const job = slot.jobs.find((j) => j.id === m.job);
    if (!job) return;
    switch (m.t) {
      case 'batch':
        if (m.end !== undefined) this.#release(slot, job);
        this.#inOrder(job, () => this.#takeBatch(slot, job, m));
        break;
      case 'consumed':
        job.inflight -= m.bytes;
        job.wakeFeeder?.();
        break;
      case 'done':
        this.#release(slot, job);
        this.#inOrder(job, () => this.#succeed(job, m.size, m.stat));
        break;
      case 'error':
        this.#release(slot, job);
        this.#fail(job, deserializeError(m.error));
        break;
      default: {
        const never: never = m;
        throw new Error(`unexpected message from an ingest worker: ${JSON.stringify(never)}`);
      }
    }
  }

  /** Runs `step` after the job's batch handling under way, or at once if there is none. */
  #inOrder(job: Job, step: () => void | Promise<void>): void {
    const chained = job.chain ? job.chain.then(step) : step();
    if (!chained) return;
    job.chain = chained;
    void chained.then(() => {
      if (job.chain === chained) job.chain = undefined;
    });
  }

  /** Hands a batch to the job's onBatch, then acknowledges it, or ends the job with its last one. */
  #takeBatch(slot: Slot, job: Job, m: BatchMessage): void | Promise<void> {
    if (job.settled) return;
    const end = m.end;
    const after = (): void => {
      if (m.data) slot.giveBack(m.data);
      if (end === undefined) slot.post({ t: 'ack', job: job.id, bytes: m.rawBytes });
      else this.#succeed(job, end, m.stat);
    };
    let r: void | Promise<void>;
    try {
      r = job.sink.onBatch(decodeBatch(m, (token) => slot.sealed(token)));
    } catch (e) {
      this.#fail(job, e);
      return;
    }
    if (!r) return after();
    return r.then(after, (e: unknown) => this.#fail(job, e));
  }

  #onExit(slot: Slot, code: number): void {
    clearTimeout(slot.retireTimer);
    const i = this.#slots.indexOf(slot);
    if (i >= 0) this.#slots.splice(i, 1);
    slot.left = true;
    slot.returns.close();
    // One stopped for being idle has nothing waiting on it; should anything be, it fails, not hangs.
    const why = slot.retired ? ' (stopped while idle)' : slot.lastError ? `: ${slot.lastError.message}` : '';
    const crashed = new IngestWorkerCrashedError(`ingest worker exited with code ${code}${why}`, {
      cause: slot.lastError,
    });
    for (const job of slot.jobs.splice(0)) this.#fail(job, crashed);
    slot.loseGroups(crashed);
    // A replacement is started on demand by the next job.
    this.#dispatch();
  }

  /** The worker has finished with `job` (it sends nothing more about it): it may take the next one. */
  #release(slot: Slot, job: Job): void {
    const i = slot.jobs.indexOf(job);
    if (i < 0) return;
    slot.jobs.splice(i, 1);
    this.#idle(slot);
    this.#dispatch();
  }

  #succeed(job: Job, size: number, stat: FileInfo | undefined): void {
    if (job.settled) return;
    job.settled = true;
    job.cleanup?.();
    job.sink.ingested(size, stat);
  }

  /** Rejects a job; a running one is told to stop, and its worker is released when it confirms. */
  #fail(job: Job, err: unknown): void {
    if (job.settled) return;
    job.settled = true;
    job.cleanup?.();
    job.sink.failed(err);
    job.wakeFeeder?.();
    const q = this.#queue.indexOf(job);
    if (q >= 0) this.#queue.splice(q, 1);
    else if (job.slot?.jobs.includes(job)) job.slot.post({ t: 'abort', job: job.id });
  }
}

/** Starts an ingest pool; workers are spawned on demand, up to `init.workers`. */
export function createIngestPool(init: IngestPoolInit): IngestPool {
  return new WorkerIngestPool(init);
}
