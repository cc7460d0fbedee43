import type { MessagePort } from 'node:worker_threads';
import type { ChunkerParams, FileInfo, GroupMember, IngestedChunk, IngestPoolInit, SealedGroup } from './types.js';

/**
 * Messages between the ingest pool (main thread) and an ingest worker. Each side sends arrays of
 * them, one postMessage per burst (a wake-up of the other thread is the expensive part). Every
 * message about an input carries its job number, so a late one about a cancelled job is dropped.
 */

/** What the pool passes as `workerData`. */
export interface IngestWorkerData {
  readonly params: ChunkerParams;
  readonly zstdLevel: number;
  readonly dbFile: string | undefined;
  /** Nice value for the worker thread (0: unchanged). */
  readonly niceness: number;
  /** Shared commit counter (see IngestPoolInit.commits). */
  readonly commits: Int32Array | undefined;
  /** See IngestPoolInit.snapshotMaxAgeMs. */
  readonly snapshotMaxAgeMs: number;
  /** See IngestPoolInit.snapshotIdleMs. */
  readonly snapshotIdleMs: number;
  /** Raw bytes per group of small chunks; 0: no groups (see IngestPoolInit.groupBytes). */
  readonly groupBytes: number;
}

/** What the pool's workers are started with; throws RangeError or TypeError naming a bad setting. */
export function workerData(init: IngestPoolInit): IngestWorkerData {
  const groupBytes = init.groupBytes ?? 0;
  if (!Number.isInteger(groupBytes) || groupBytes < 0 || groupBytes > 2 ** 26)
    throw new RangeError(`groupBytes ${groupBytes} must be an integer from 0 to 64 MiB`);
  if (groupBytes > 0 && !init.onGroup) throw new TypeError('groupBytes needs an onGroup to take the groups');
  const snapshotMaxAgeMs = init.snapshotMaxAgeMs ?? 1_000;
  const snapshotIdleMs = init.snapshotIdleMs ?? 20;
  for (const [name, ms] of [
    ['snapshotMaxAgeMs', snapshotMaxAgeMs],
    ['snapshotIdleMs', snapshotIdleMs],
    ['idleRetireMs', init.idleRetireMs ?? 0], // the pool's own setting, checked with the others
  ] as const)
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`${name} ${ms} must be a finite number of ms, 0 or more`);
  return {
    params: init.params,
    zstdLevel: init.zstdLevel,
    dbFile: init.dbFile,
    niceness: (init.lowPriority ?? true) ? 10 : 0,
    commits: init.commits,
    snapshotMaxAgeMs,
    snapshotIdleMs,
    groupBytes,
  };
}

export type ToWorker =
  /** A prestarted worker's settings (prestart.ts): its first message, in place of `workerData`. */
  | { readonly t: 'init'; readonly data: IngestWorkerData }
  | { readonly t: 'file'; readonly job: number; readonly path: string }
  | { readonly t: 'stream'; readonly job: number }
  /** Stream input; `buf` is transferred. */
  | { readonly t: 'data'; readonly job: number; readonly buf: ArrayBuffer; readonly length: number }
  | { readonly t: 'end'; readonly job: number }
  /** A batch of `bytes` raw bytes was handled: the worker may run that much further ahead. */
  | { readonly t: 'ack'; readonly job: number; readonly bytes: number }
  /**
   * The port batches' and groups' buffers come back on once their bytes are written (for reuse,
   * BufferPool), sent once after the worker starts: apart from the jobs, so that a worker busy with
   * a long file can take them in without yielding (receiveMessageOnPort).
   */
  | { readonly t: 'returns'; readonly port: MessagePort }
  | { readonly t: 'abort'; readonly job: number }
  /** The pool would stop the worker if it has nothing left to do (see IngestPoolInit.idleRetireMs). */
  | { readonly t: 'idle?' }
  /** Test hook: the worker exits at once, as a crash would. */
  | { readonly t: 'crash' };

/**
 * A batch of chunks in two transferred buffers. `head` holds the `count` 32-byte ids, then per chunk
 * 4 int32s: raw length, codec (-1: already stored, no bytes; -2: in a group), then offset and length
 * of its encoded bytes in `data` — or, for a grouped chunk, the group's token and where the chunk
 * starts in the group's raw bytes. `data` is the worker's to reuse: the pool gives it back once the
 * batch is handled, and the chunks' views of it are then empty.
 */
export interface BatchMessage {
  readonly t: 'batch';
  readonly job: number;
  readonly head: ArrayBuffer;
  /** Absent when no chunk of the batch has bytes (all known, or all grouped). */
  readonly data?: ArrayBuffer | undefined;
  readonly count: number;
  readonly rawBytes: number;
  /** Set on a job's last batch: the input's size. The job is then over (no ack is expected). */
  readonly end?: number;
  /** With `end`, for a file: its stat as opened, before the first read. */
  readonly stat?: FileInfo;
}

/**
 * A sealed group: its zstd frame (the first `frameLength` bytes of `frame`, a buffer the pool gives
 * back once the group is stored) and `count` members, each a 32-byte id then 2 int32s (raw length,
 * offset in the group's raw bytes), in `members`. A worker numbers its groups 0, 1, 2 … and seals
 * them in that order; a batch naming a group may arrive before or after the group itself.
 */
export interface GroupMessage {
  readonly t: 'group';
  readonly token: number;
  readonly frame: ArrayBuffer;
  readonly frameLength: number;
  readonly rawLength: number;
  readonly members: ArrayBuffer;
  readonly count: number;
}

export type FromWorker =
  | BatchMessage
  | GroupMessage
  /** The worker copied out `bytes` of stream input: the pool may send that much more. */
  | { readonly t: 'consumed'; readonly job: number; readonly bytes: number }
  | { readonly t: 'done'; readonly job: number; readonly size: number; readonly stat?: FileInfo }
  | { readonly t: 'error'; readonly job: number; readonly error: SerializedError }
  /**
   * The answer to `idle?`: whether the worker has no job and no open group. Every group it sealed
   * was posted before this answer, so the pool has them all when it reads `idle: true`.
   */
  | { readonly t: 'idle'; readonly idle: boolean };

export const META_FIELDS = 4;
export const NO_CODEC = -1;
export const GROUPED = -2;
export const MEMBER_FIELDS = 2;

/** A group message as the chunk store takes it (views of the transferred buffers, no copy). */
export function decodeGroup(m: GroupMessage): SealedGroup {
  const meta = new Int32Array(m.members, 32 * m.count, MEMBER_FIELDS * m.count);
  const members: GroupMember[] = [];
  for (let i = 0; i < m.count; i++)
    members.push({
      id: Buffer.from(m.members, 32 * i, 32),
      rawLength: meta[MEMBER_FIELDS * i]!,
      at: meta[MEMBER_FIELDS * i + 1]!,
    });
  return { frame: Buffer.from(m.frame, 0, m.frameLength), rawLength: m.rawLength, members };
}

/**
 * Turns a batch message into chunks whose buffers are views of the transferred buffers (no copy).
 * `sealed(token)` gives the promise a grouped chunk carries (see IngestedChunk.grouped).
 */
export function decodeBatch(m: BatchMessage, sealed?: (token: number) => Promise<void>): IngestedChunk[] {
  const out: IngestedChunk[] = [];
  const n = m.count;
  const meta = new Int32Array(m.head, 32 * n, META_FIELDS * n);
  for (let i = 0; i < n; i++) {
    const rawLength = meta[META_FIELDS * i]!;
    const codec = meta[META_FIELDS * i + 1]!;
    const id = Buffer.from(m.head, 32 * i, 32);
    // Every chunk has all four fields, in one order: one hidden class for what reads them (three
    // made the optimised readers deoptimise when the third kind first came).
    if (codec === NO_CODEC) out.push({ id, rawLength, encoded: undefined, grouped: undefined });
    else if (codec === GROUPED) {
      if (!sealed) throw new Error('a worker grouped a chunk, but this pool does not take groups');
      out.push({ id, rawLength, encoded: undefined, grouped: sealed(meta[META_FIELDS * i + 2]!) });
    } else {
      if (!m.data) throw new Error('a worker sent an encoded chunk without the batch’s data');
      const data = Buffer.from(m.data, meta[META_FIELDS * i + 2]!, meta[META_FIELDS * i + 3]!);
      out.push({ id, rawLength, encoded: { codec, data }, grouped: undefined });
    }
  }
  return out;
}

/** An error as it crosses threads: structured clone drops `code`, `errno`, `syscall` and `path`. */
export interface SerializedError {
  readonly name: string;
  readonly message: string;
  readonly code?: string;
  readonly errno?: number;
  readonly syscall?: string;
  readonly path?: string;
  readonly stack?: string;
}

export function serializeError(e: unknown): SerializedError {
  if (!(e instanceof Error)) return { name: 'Error', message: String(e) };
  const x = e as NodeJS.ErrnoException;
  return {
    name: x.name,
    message: x.message,
    ...(typeof x.code === 'string' ? { code: x.code } : {}),
    ...(typeof x.errno === 'number' ? { errno: x.errno } : {}),
    ...(typeof x.syscall === 'string' ? { syscall: x.syscall } : {}),
    ...(typeof x.path === 'string' ? { path: x.path } : {}),
    ...(x.stack ? { stack: x.stack } : {}),
  };
}

/** Rebuilds an error thrown in a worker, with its name and fs fields. */
export function deserializeError(s: SerializedError): Error {
  const e = new Error(s.message) as NodeJS.ErrnoException;
  Object.defineProperty(e, 'name', { value: s.name, configurable: true, writable: true });
  if (s.code !== undefined) e.code = s.code;
  if (s.errno !== undefined) e.errno = s.errno;
  if (s.syscall !== undefined) e.syscall = s.syscall;
  if (s.path !== undefined) e.path = s.path;
  if (s.stack !== undefined) e.stack = s.stack;
  return e;
}
