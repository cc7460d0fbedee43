import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort, receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import { BufferPool } from './buffer-pool.js';
import { ChunkPipeline, GroupBuilder, type Batch } from './chunk-pipeline.js';
import { ChunkEncoder } from './compression.js';
import { fileReader, type Reader } from './file-reader.js';
import { primeGearChunker } from './gear-chunker.js';
import { KnownChunks } from './known-chunks.js';
import type { FileInfo } from './types.js';
import {
  serializeError,
  type BatchMessage,
  type FromWorker,
  type GroupMessage,
  type IngestWorkerData,
  type ToWorker,
} from './ingest-protocol.js';

/**
 * Entry point of an ingest worker thread (started by ingest-pool.ts from the compiled dist/ file).
 * It runs one job at a time — the pool may queue the next one here so the worker never waits for a
 * round trip between files — reading a file itself (or taking stream bytes from the pool), running
 * the chunk pipeline and posting batches in input order, never more than WINDOW raw bytes ahead of
 * the batches the pool has acknowledged.
 */

/** Raw bytes of batches posted but not yet acknowledged, at most (one batch may exceed it alone). */
const WINDOW = 8 * 2 ** 20;

const port = parentPort!;
/** What a prestarted worker was sent with its settings, handled once the message handler is on. */
const early: ToWorker[] = [];
const init: IngestWorkerData = (workerData as IngestWorkerData | undefined) ?? (await settings());

/** A prestarted worker's settings (prestart.ts): the first of the first messages it gets. */
function settings(): Promise<IngestWorkerData> {
  return new Promise((resolve, reject) => {
    port.once('message', (ms: ToWorker[]) => {
      const [first, ...rest] = ms;
      if (first?.t !== 'init') {
        reject(new Error(`an ingest worker started without settings got ${first?.t ?? 'nothing'} first`));
        return;
      }
      early.push(...rest);
      resolve(first.data);
    });
  });
}

/**
 * Background work should yield the CPU to the main thread (the UI, the event loop) and to the user's
 * programs, as Syncthing lowers its own priority. On Linux a nice value is per thread:
 * /proc/thread-self names this thread's id. Elsewhere (or if refused) we run at normal priority.
 */
if (init.niceness > 0 && process.platform === 'linux') {
  try {
    setPriority(Number(readlinkSync('/proc/thread-self').split('/').pop()), init.niceness);
  } catch {
    // Not fatal: only scheduling changes.
  }
}
const encoder = new ChunkEncoder(init.zstdLevel);
/**
 * Batches' and groups' buffers (~1 MiB each), back from the pool. A worker has at most WINDOW bytes
 * of batches unacknowledged and a group or two on their way, but they come back in bursts, after the
 * main thread wrote them: keeping 6 of each size, one take in five still found none free and made a
 * new one, its pages faulted in anew (~12 µs a page on this VM). With 12 kept, storing the corpus
 * faults ~8,000 pages fewer (the workers' 44,600 → 36,600).
 */
const buffers = new BufferPool(12);

/**
 * Buffers come back on their own port: as messages when this thread is idle, and, when the pool
 * has none left of a size, taken at once from the port's queue. Before, they came with the jobs and
 * acks, read only when the worker yielded (every 12 small files, or when a long file waited for its
 * acks), so a worker made 35–44 new 1 MiB buffers in a store, most in its first second, each of
 * their pages faulted in anew. Now 37–44 for both workers together, most of them the pool's first
 * fill in the first second (~3,500 fewer page faults a store).
 */
function takeReturns(returns: MessagePort): void {
  const give = (bufs: ArrayBuffer[]): void => {
    for (const b of bufs) buffers.give(b);
  };
  returns.on('message', give);
  returns.unref(); // nothing to wait for: the worker's life is its jobs
  buffers.refill = () => {
    for (let m = receiveMessageOnPort(returns); m; m = receiveMessageOnPort(returns)) give(m.message as ArrayBuffer[]);
  };
}
const pipeline = new ChunkPipeline(init.params, encoder, buffers);
primeGearChunker();
const groups = init.groupBytes > 0 ? new GroupBuilder(init.groupBytes, encoder, buffers) : undefined;
/**
 * A group is sealed when full, when this worker has had nothing to do for IDLE_SEAL_MS (so a lone
 * file is not kept waiting), and once it has been open MAX_GROUP_AGE_MS, checked at every batch and
 * after every input (so big files do not hold back the small ones before them).
 */
const IDLE_SEAL_MS = 5;
const MAX_GROUP_AGE_MS = 250;
let idleTimer: NodeJS.Timeout | undefined;

function postGroup(m: GroupMessage): void {
  post(m, [m.frame, m.members]);
}

function sealGroup(): void {
  const m = groups?.seal();
  if (m) postGroup(m);
}

/** Seals the open group if it has waited MAX_GROUP_AGE_MS: at each batch of a long input, and after each input. */
function sealIfOld(): void {
  const opened = groups?.openedAt;
  if (opened !== undefined && performance.now() - opened >= MAX_GROUP_AGE_MS) sealGroup();
}

class AbortError extends Error {
  override readonly name = 'AbortError';
  readonly code = 'ABORT_ERR';
}

/** One input being ingested. The pipeline is sequential, so at most one wait is pending at a time. */
class Job {
  aborted = false;
  unacked = 0;
  /** Stream input not yet copied out, and how far into the first piece we are. */
  readonly queue: Uint8Array[] = [];
  head = 0;
  ended = false;
  /** The latest batch, not yet posted (see emit). */
  held: Batch | undefined;
  #wake: (() => void) | undefined;

  constructor(
    readonly id: number,
    readonly source: { readonly file: string } | { readonly stream: true },
  ) {}

  wake(): void {
    const w = this.#wake;
    this.#wake = undefined;
    w?.();
  }

  wait(): Promise<void> {
    return new Promise((resolve) => (this.#wake = resolve));
  }

  checkAborted = (): void => {
    if (this.aborted) throw new AbortError(`ingest job ${this.id} was aborted`);
  };
}

/** Jobs queued or running, by id; they run in arrival order. */
const jobs = new Map<number, Job>();
const queue: Job[] = [];
let running = false;

/**
 * Messages to the pool wait here until this thread yields, or is about to wait for the pool: one
 * postMessage (one wake-up of the main thread) then carries a whole burst, such as the results of
 * several small files.
 */
let outbox: FromWorker[] = [];
let transfers: ArrayBuffer[] = [];

function post(m: FromWorker, transfer: ArrayBuffer[] = []): void {
  if (outbox.length === 0) setImmediate(flush);
  outbox.push(m);
  transfers.push(...transfer);
}

function flush(): void {
  if (outbox.length === 0) return;
  port.postMessage(outbox, transfers);
  outbox = [];
  transfers = [];
}

const knownChunks = new KnownChunks(init);

function streamReader(job: Job): Reader {
  return {
    async read(dest) {
      for (;;) {
        job.checkAborted();
        let n = 0;
        while (n < dest.length && job.queue.length > 0) {
          const piece = job.queue[0]!;
          const take = Math.min(piece.length - job.head, dest.length - n);
          dest.set(piece.subarray(job.head, job.head + take), n);
          n += take;
          job.head += take;
          if (job.head === piece.length) {
            job.queue.shift();
            job.head = 0;
            post({ t: 'consumed', job: job.id, bytes: piece.length });
          }
        }
        if (n > 0 || job.ended) return n;
        flush(); // our 'consumed' messages are what lets the pool send more
        await job.wait();
      }
    },
    close: () => {},
  };
}

/**
 * Each batch is held back until the next one exists, so a job's last batch can carry its end: for a
 * small file that is one message instead of a batch, a done and an ack.
 */
async function emit(job: Job, batch: Batch): Promise<void> {
  // A long input (a 2 GiB file) must not hold back the small files grouped before it.
  sealIfOld();
  const held = job.held;
  job.held = batch;
  if (!held) return;
  while (job.unacked > 0 && job.unacked + held.rawBytes > WINDOW) {
    job.checkAborted();
    flush(); // the acks we wait for may be for batches still in the outbox
    await job.wait();
  }
  job.checkAborted();
  job.unacked += held.rawBytes;
  postBatch(job, held, undefined, undefined);
}

/**
 * Every batch message has the same fields in the same order (absent ones undefined): spread from
 * the batch and the stat, each message object got a hidden class of its own, and the pool's reads
 * of them on the main thread saw several shapes (deoptimisations, megamorphic loads).
 */
function postBatch(job: Job, b: Batch, end: number | undefined, stat: FileInfo | undefined): void {
  const m: BatchMessage = {
    t: 'batch',
    job: job.id,
    head: b.head,
    data: b.data,
    count: b.count,
    rawBytes: b.rawBytes,
    end,
    stat,
  };
  post(m, b.data ? [b.head, b.data] : [b.head]);
}

/** The job's outcome: its last batch with the input size, or a bare done. */
function finish(job: Job, size: number, stat: FileInfo | undefined): void {
  const last = job.held;
  job.held = undefined;
  if (last) postBatch(job, last, size, stat);
  else post({ t: 'done', job: job.id, size, stat });
}

async function run(job: Job): Promise<void> {
  let reader: Reader | undefined;
  let result: number | FromWorker;
  let stat: FileInfo | undefined;
  try {
    job.checkAborted();
    const known = knownChunks.lookup();
    reader = 'file' in job.source ? fileReader(job.source.file, yieldTurn) : streamReader(job);
    const r = reader;
    // Every field present, in one order, and the same functions where they can be: options built
    // with conditional spreads got a new hidden class per file, and the pipeline's loads from them
    // went megamorphic (the ingest pool alone over the bench corpus: 4.3 → 5.1 CPU-s with a lookup set).
    const size = await pipeline.run((dest) => r.read(dest), {
      isKnown: known,
      emit: (batch) => emit(job, batch),
      checkAborted: job.checkAborted,
      groups,
      onSealed: groups ? postGroup : undefined,
    });
    result = size;
    stat = r.opened;
  } catch (e) {
    result = { t: 'error', job: job.id, error: serializeError(e) };
  }
  try {
    reader?.close();
  } catch {
    // Closing a file we only read cannot lose data; the job's outcome stands.
  }
  if (typeof result === 'number') finish(job, result, stat);
  else post(result);
  sealIfOld();
}

/** Jobs run since this thread last let its event loop turn (see drain). */
let sinceTurn = 0;

function yieldTurn(): Promise<void> {
  sinceTurn = 0;
  return new Promise(setImmediate);
}

/**
 * Small files run back to back, a turn of the event loop every YIELD_EVERY of them: that turn
 * posts their results in one message (see post) and takes in new jobs and acks. A message per file
 * cost a postMessage here and a wake-up of the main thread there, for each of the corpus's 34,000
 * files. Storing the corpus in-process, builds alternating (three pairs each): a turn every 4 files
 * instead of every file took 3–8 % less CPU time and cut context switches from 35,000–40,000 to
 * 20,000; every 12 took 2–6 % less again, with 15,000–16,000 switches, and was no slower than
 * never yielding before the queue ran dry.
 */
const YIELD_EVERY = 12;

async function drain(): Promise<void> {
  if (running) return;
  running = true;
  for (let job = queue.shift(); job; job = queue.shift()) {
    await run(job);
    jobs.delete(job.id);
    if (++sinceTurn >= YIELD_EVERY) await yieldTurn();
  }
  running = false;
  if (groups?.openedAt !== undefined) {
    idleTimer = setTimeout(() => {
      idleTimer = undefined;
      if (!running) sealGroup();
    }, IDLE_SEAL_MS);
  }
}

port.on('message', (ms: ToWorker[]) => {
  for (const m of ms) handle(m);
});
for (const m of early.splice(0)) handle(m);

function handle(m: ToWorker): void {
  if (m.t === 'crash') process.exit(70);
  if (m.t === 'init') return; // settings come once, first (see settings)
  if (m.t === 'idle?') {
    post({ t: 'idle', idle: !running && queue.length === 0 && groups?.openedAt === undefined });
    flush();
    return;
  }
  if (m.t === 'returns') {
    takeReturns(m.port);
    return;
  }
  if (m.t === 'file' || m.t === 'stream') {
    if (idleTimer) clearTimeout(idleTimer);
    idleTimer = undefined;
    const job = new Job(m.job, m.t === 'file' ? { file: m.path } : { stream: true });
    jobs.set(job.id, job);
    queue.push(job);
    void drain();
    return;
  }
  const job = jobs.get(m.job);
  if (!job) return; // about a job that already ended
  switch (m.t) {
    case 'data':
      job.queue.push(new Uint8Array(m.buf, 0, m.length));
      break;
    case 'end':
      job.ended = true;
      break;
    case 'ack':
      job.unacked -= m.bytes;
      break;
    case 'abort':
      job.aborted = true;
      break;
    default: {
      const never: never = m;
      throw new Error(`unexpected message ${JSON.stringify(never)}`);
    }
  }
  job.wake();
}
