/**
 * The buffers an ingest worker encodes into and transfers to the pool, kept for reuse once the pool
 * hands them back (on the worker's return port, after their bytes are written).
 *
 * A fresh buffer per batch and per group cost more than its copy: V8 zero-fills a new ArrayBuffer,
 * the kernel faults its pages in one by one, and the main thread later unmaps it. Storing the
 * corpus, that was ~4 % of all CPU samples (perf). A reused buffer is filled where it lies.
 */
export class BufferPool {
  /** Free buffers by size. */
  readonly #free = new Map<number, ArrayBuffer[]>();

  /** `keep`: free buffers kept per size; any more handed back are left to the garbage collector. */
  constructor(readonly keep: number) {}

  /**
   * Called when no free buffer of the size asked for is left, before a new one is made: it may give
   * back buffers that have come back but not been taken in yet (see ingest-worker.ts).
   */
  refill: (() => void) | undefined;

  /** A buffer of `size` bytes: a free one if there is one, else a new one (zero-filled). */
  take(size: number): ArrayBuffer {
    const free = this.#free.get(size)?.pop();
    if (free) return free;
    this.refill?.();
    return this.#free.get(size)?.pop() ?? new ArrayBuffer(size);
  }

  /** Takes a buffer back. A detached one (length 0, its memory gone with a transfer) is ignored. */
  give(buf: ArrayBuffer): void {
    if (buf.byteLength === 0) return;
    let free = this.#free.get(buf.byteLength);
    if (!free) this.#free.set(buf.byteLength, (free = []));
    if (free.length < this.keep) free.push(buf);
  }

  /** Free buffers held, all sizes together. */
  get size(): number {
    let n = 0;
    for (const free of this.#free.values()) n += free.length;
    return n;
  }
}
