import { sha256Digest } from '../util/sha256.js';
import type { BufferPool } from './buffer-pool.js';
import { ChunkEncoder } from './compression.js';
import { GearChunker } from './gear-chunker.js';
import { GROUPED, MEMBER_FIELDS, META_FIELDS, NO_CODEC, type GroupMessage } from './ingest-protocol.js';
import { GROUP_CHUNK_MAX, type ChunkerParams } from './types.js';

/**
 * The CPU work of ingest, as it runs in a worker thread: read → chunk → SHA-256 → skip known
 * chunks → compress → pack into batches. Bytes are read into one reused buffer and compressed
 * straight into a batch's buffer, which the pool hands back to be filled again (BufferPool), so the
 * only per-chunk allocation is the 32-byte id.
 */

/** Bytes asked for per read: large enough to amortise the syscall, small enough to stay cache-friendly. */
export const READ_SIZE = 4 * 2 ** 20;
/** A batch is sent once it covers this many raw bytes (or its buffer is full). */
export const BATCH_RAW_BYTES = 2 ** 20;

/**
 * One batch, ready to transfer (layout in BatchMessage, ingest-protocol.ts). Ids and data travel in
 * separate buffers: a consumer that keeps the ids (an object's chunk list) must not keep the
 * megabytes of chunk data alive with them, and the data's buffer comes back to be reused.
 */
export interface Batch {
  readonly head: ArrayBuffer;
  /** A BufferPool buffer holding the encoded chunks; none when no chunk in the batch has bytes. */
  readonly data: ArrayBuffer | undefined;
  readonly count: number;
  readonly rawBytes: number;
}

/** What one run of the pipeline needs besides its input. */
export interface PipelineRun {
  /** Whether the archive already stores this chunk id (its bytes are then not compressed nor sent). */
  readonly isKnown?: (id: Buffer) => boolean;
  /** Hands a batch over; the pipeline waits for the promise (that is the backpressure). */
  readonly emit: (batch: Batch) => Promise<void>;
  /** Throws to stop the pipeline (checked between reads and batches). */
  readonly checkAborted: () => void;
  /** Where new small chunks go, if anywhere; `onSealed` then takes each group it fills. */
  readonly groups?: GroupBuilder;
  readonly onSealed?: (group: GroupMessage) => void;
}

/**
 * A worker's open group of small new chunks (see GROUP_CHUNK_MAX): their raw bytes side by side,
 * compressed as one zstd frame when the group is sealed. Groups are numbered from 0 and sealed in
 * that order, so the pool knows every group up to the last one it received is settled.
 */
export class GroupBuilder {
  readonly #raw: Uint8Array;
  /** Size of the buffers frames are compressed into (they come from, and go back to, `#buffers`). */
  readonly #frameCapacity: number;
  readonly #buffers: BufferPool;
  readonly #limit: number;
  readonly #encoder: ChunkEncoder;
  /** Where each member starts, by id (latin1): a chunk twice in one group is kept once. */
  #at = new Map<string, number>();
  #ids: Buffer[] = [];
  #meta: number[] = [];
  #used = 0;
  #token = 0;
  /** When the first member of the open group came (performance.now()), or undefined when empty. */
  openedAt: number | undefined;

  constructor(limit: number, encoder: ChunkEncoder, buffers: BufferPool) {
    this.#limit = limit;
    this.#encoder = encoder;
    this.#buffers = buffers;
    this.#raw = new Uint8Array(limit + GROUP_CHUNK_MAX);
    this.#frameCapacity = ChunkEncoder.bound(limit + GROUP_CHUNK_MAX);
  }

  /** Adds a chunk (under GROUP_CHUNK_MAX bytes) to the open group; returns the group and the chunk's place. */
  add(id: Buffer, raw: Uint8Array): { token: number; at: number } {
    const k = id.toString('latin1');
    const seen = this.#at.get(k);
    if (seen !== undefined) return { token: this.#token, at: seen };
    const at = this.#used;
    this.#raw.set(raw, at);
    this.#used += raw.length;
    this.#at.set(k, at);
    this.#ids.push(id);
    this.#meta.push(raw.length, at);
    this.openedAt ??= performance.now();
    return { token: this.#token, at };
  }

  get full(): boolean {
    return this.#used >= this.#limit;
  }

  /** Compresses the open group into a message (buffers ready to transfer); undefined when it is empty. */
  seal(): GroupMessage | undefined {
    const n = this.#ids.length;
    if (n === 0) return undefined;
    const frame = this.#buffers.take(this.#frameCapacity);
    const frameLength = this.#encoder.frameInto(this.#raw.subarray(0, this.#used), new Uint8Array(frame));
    const members = new ArrayBuffer(n * (32 + 4 * MEMBER_FIELDS));
    const bytes = new Uint8Array(members);
    this.#ids.forEach((id, i) => bytes.set(id, 32 * i));
    new Int32Array(members, 32 * n, MEMBER_FIELDS * n).set(this.#meta);
    const m: GroupMessage = {
      t: 'group',
      token: this.#token++,
      frame,
      frameLength,
      rawLength: this.#used,
      members,
      count: n,
    };
    this.#at = new Map();
    this.#ids = [];
    this.#meta = [];
    this.#used = 0;
    this.openedAt = undefined;
    return m;
  }
}

/** Accumulates chunks, encoding into a buffer of the pool's that leaves with the batch. */
class BatchBuilder {
  /** Where this batch's chunks are encoded, taken at the first chunk with bytes. */
  #data: Uint8Array<ArrayBuffer> | undefined;
  #used = 0;
  #ids: Buffer[] = [];
  #meta: number[] = [];
  #raw = 0;

  constructor(
    private readonly buffers: BufferPool,
    private readonly capacity: number,
    private readonly encoder: ChunkEncoder,
    private readonly run: PipelineRun,
  ) {}

  async add(id: Buffer, raw: Uint8Array, known: boolean): Promise<void> {
    const groups = this.run.groups;
    const grouped = !known && groups !== undefined && raw.length < GROUP_CHUNK_MAX;
    const need = known || grouped ? 0 : ChunkEncoder.bound(raw.length);
    if (this.#ids.length > 0 && (this.#raw >= BATCH_RAW_BYTES || this.#used + need > this.capacity)) await this.flush();
    if (grouped) {
      const { token, at } = groups.add(id, raw);
      this.#ids.push(id);
      this.#meta.push(raw.length, GROUPED, token, at);
      this.#raw += raw.length;
      if (groups.full) this.run.onSealed!(groups.seal()!);
      return;
    }
    const at = this.#used;
    let codec: number = NO_CODEC;
    let length = 0;
    if (!known) {
      const data = (this.#data ??= new Uint8Array(this.buffers.take(this.capacity)));
      ({ codec, length } = this.encoder.encodeInto(raw, data.subarray(at, at + need)));
    }
    this.#ids.push(id);
    this.#meta.push(raw.length, codec, at, length);
    this.#used = at + length;
    this.#raw += raw.length;
  }

  async flush(): Promise<void> {
    const n = this.#ids.length;
    if (n === 0) return;
    const head = new ArrayBuffer(n * (32 + 4 * META_FIELDS));
    const bytes = new Uint8Array(head);
    this.#ids.forEach((id, i) => bytes.set(id, 32 * i));
    new Int32Array(head, 32 * n, META_FIELDS * n).set(this.#meta);
    // The encoded bytes leave in their buffer (no copy); a batch without any keeps it for the next.
    const data = this.#used > 0 ? this.#data!.buffer : undefined;
    if (data) this.#data = undefined;
    const batch: Batch = { head, data, count: n, rawBytes: this.#raw };
    this.#used = 0;
    this.#ids = [];
    this.#meta = [];
    this.#raw = 0;
    await this.run.emit(batch);
  }
}

/**
 * The pipeline of one worker thread. Its buffers are allocated once and reused by every input: a
 * folder of small files must not cost megabytes of allocation (and garbage collection) per file.
 */
export class ChunkPipeline {
  readonly #params: ChunkerParams;
  readonly #encoder: ChunkEncoder;
  /** Input: the unfinished chunk (< max bytes) stays at the front, so one read always fits behind it. */
  readonly #input: Buffer;
  readonly #buffers: BufferPool;
  /**
   * Size of a batch's buffer: a batch is sent before a chunk that would not fit, so one chunk of the
   * largest size, encoded, is all it must hold.
   */
  readonly #batchCapacity: number;

  constructor(params: ChunkerParams, encoder: ChunkEncoder, buffers: BufferPool) {
    this.#params = params;
    this.#encoder = encoder;
    this.#buffers = buffers;
    this.#input = Buffer.allocUnsafeSlow(READ_SIZE + params.max);
    this.#batchCapacity = Math.max(BATCH_RAW_BYTES, ChunkEncoder.bound(params.max));
  }

  /**
   * Runs over everything `read` returns (it fills `dest` and returns the byte count, 0 at the end);
   * resolves with the input's size once the last batch was emitted. One run at a time.
   */
  async run(read: (dest: Uint8Array) => number | Promise<number>, run: PipelineRun): Promise<number> {
    const { isKnown, checkAborted } = run;
    const chunker = new GearChunker(this.#params);
    const batch = new BatchBuilder(this.#buffers, this.#batchCapacity, this.#encoder, run);
    const buf = this.#input;
    let base = 0; // stream offset of buf[0]
    let fill = 0; // bytes of buf holding data
    let start = 0; // stream offset where the current chunk begins
    const emit = async (end: number): Promise<void> => {
      const raw = buf.subarray(start - base, end - base);
      // One-shot hash (sha256Digest): a createHash object per chunk costs several times more for small chunks.
      const id = sha256Digest(raw);
      await batch.add(id, raw, isKnown?.(id) ?? false);
      start = end;
    };
    // One loop over the cuts, for those found in a read and the last one alike: a file smaller than
    // the minimum chunk (most files) has only the last, and with a loop of its own, the first
    // larger file ran code the optimising compiler had never seen run (a deoptimisation, then a
    // recompile, in every worker).
    for (let n = -1; n !== 0;) {
      checkAborted();
      if (buf.length - fill < READ_SIZE) {
        buf.copyWithin(0, start - base, fill);
        fill -= start - base;
        base = start;
      }
      n = await read(buf.subarray(fill, fill + READ_SIZE));
      const cuts = n === 0 ? chunker.finish() : chunker.push(buf.subarray(fill, fill + n));
      fill += n;
      for (let i = 0; i < cuts.length; i++) await emit(cuts[i]!);
    }
    checkAborted();
    await batch.flush();
    return start;
  }
}
