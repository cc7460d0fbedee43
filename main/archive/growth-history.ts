import type { Db } from '../db/database.js';

/** The archive's size after some number of blocks, everything cumulative from genesis. */
export interface GrowthPoint {
  /** The newest block it includes (its log position). */
  readonly seq: number;
  /** That block's time, ms since epoch. */
  readonly ts: number;
  readonly blocks: number;
  /** Original bytes of every object version (genesis excluded), as `pakit stats` counts them. */
  readonly originalBytes: number;
  /** Raw bytes of the distinct chunks those versions reference: what is left after dedup. */
  readonly uniqueBytes: number;
  /** Bytes those distinct chunks occupy in the store: what is left after dedup and compression. */
  readonly storedBytes: number;
}

export interface GrowthHistoryInit {
  /** Points kept at most; when more accumulate, every other one is dropped. Default 2,048. */
  readonly maxPoints?: number;
  /** Blocks read per slice. Default 1,000. */
  readonly blocksPerSlice?: number;
  /** Chunk references read per slice. Default 5,000. */
  readonly chunksPerSlice?: number;
  /** The event loop is given back once a run of slices has taken this long. Default 8 ms. */
  readonly sliceBudgetMs?: number;
}

interface BlockRow {
  seq: number;
  kind: string;
  ts: number;
  size: number;
}

interface ChunkRef {
  seq: number;
  idx: number;
  chunk: number;
  raw: number;
  stored: number;
}

const yieldToLoop = (): Promise<void> => new Promise((r) => setImmediate(r));

/**
 * The archive's growth over time, computed once and then extended block by block as the log grows
 * (blocks are only ever appended, so what was folded in never changes). A chunk counts towards
 * `uniqueBytes` and `storedBytes` at the first block that references it, so the last point equals
 * what the blocks reference; chunks no block references (an interrupted store) are not in it.
 *
 * Reading a million blocks takes seconds, but in slices of a few milliseconds with the event loop
 * free in between: the node keeps answering while a first history is built.
 */
export class GrowthHistory {
  readonly #blocks;
  readonly #refs;
  readonly #maxSeq;
  readonly #maxPoints: number;
  readonly #blocksPerSlice: number;
  readonly #chunksPerSlice: number;
  readonly #budgetMs: number;
  #points: GrowthPoint[] = [];
  /** A point is kept every `#step` blocks (doubled whenever the list is thinned). */
  #step = 1;
  #last: GrowthPoint | undefined;
  /** One bit per chunk row id: referenced by a block already folded in. */
  #seen = new Uint8Array(1 << 16);
  #running: Promise<void> | undefined;

  constructor(db: Db, init: GrowthHistoryInit = {}) {
    this.#blocks = db.prepare<[number, number], BlockRow>(
      'SELECT seq, kind, ts, size FROM blocks WHERE seq BETWEEN ? AND ? ORDER BY seq',
    );
    // The chunk references of a range of blocks, in (seq, idx) order, a page at a time.
    this.#refs = db.prepare<[number, number, number, number], ChunkRef>(
      `SELECT oc.seq, oc.idx, oc.chunk, c.raw_len AS raw, c.stored_len AS stored
       FROM object_chunks oc JOIN chunks c ON c.rid = oc.chunk
       WHERE (oc.seq, oc.idx) > (?, ?) AND oc.seq <= ? ORDER BY oc.seq, oc.idx LIMIT ?`,
    );
    this.#maxSeq = db.prepare<[], number | null>('SELECT max(seq) FROM blocks').pluck();
    this.#maxPoints = init.maxPoints ?? 2048;
    this.#blocksPerSlice = init.blocksPerSlice ?? 1000;
    this.#chunksPerSlice = init.chunksPerSlice ?? 5000;
    this.#budgetMs = init.sliceBudgetMs ?? 8;
  }

  /** Folds in the blocks appended since the last call. Concurrent callers share one run. */
  update(): Promise<void> {
    this.#running ??= this.#update().finally(() => (this.#running = undefined));
    return this.#running;
  }

  /**
   * At most `count` points from genesis to now, evenly spaced in time: for each moment, the
   * newest kept point at or before it. The last is always the archive as it is now.
   */
  points(count: number): GrowthPoint[] {
    const all = this.#points;
    const last = this.#last;
    if (!last) return [];
    const first = all[0]!;
    if (count < 2 || last.ts <= first.ts) return last === first ? [last] : [first, last];
    const out: GrowthPoint[] = [];
    let i = 0;
    for (let k = 0; k < count - 1; k++) {
      const t = first.ts + ((last.ts - first.ts) * k) / (count - 1);
      while (i + 1 < all.length && all[i + 1]!.ts <= t) i++;
      if (out.at(-1) !== all[i]) out.push(all[i]!);
    }
    if (out.at(-1)!.seq !== last.seq) out.push(last);
    return out;
  }

  async #update(): Promise<void> {
    const newest = this.#maxSeq.get() ?? -1;
    let started = performance.now();
    const breathe = async (): Promise<void> => {
      if (performance.now() - started < this.#budgetMs) return;
      await yieldToLoop();
      started = performance.now();
    };
    let acc = this.#last ?? { seq: -1, ts: 0, blocks: 0, originalBytes: 0, uniqueBytes: 0, storedBytes: 0 };
    while (acc.seq < newest) {
      const from = acc.seq + 1;
      const to = Math.min(newest, from + this.#blocksPerSlice - 1);
      // New bytes per block of this slice, from the chunks it is the first to reference.
      const unique = new Float64Array(to - from + 1);
      const stored = new Float64Array(to - from + 1);
      let after = { seq: from - 1, idx: Number.MAX_SAFE_INTEGER };
      for (;;) {
        const refs = this.#refs.all(after.seq, after.idx, to, this.#chunksPerSlice);
        for (const r of refs) {
          if (this.#mark(r.chunk)) {
            unique[r.seq - from]! += r.raw;
            stored[r.seq - from]! += r.stored;
          }
        }
        if (refs.length < this.#chunksPerSlice) break;
        after = refs.at(-1)!;
        await breathe();
      }
      for (const b of this.#blocks.all(from, to)) {
        acc = {
          seq: b.seq,
          ts: b.ts,
          blocks: acc.blocks + 1,
          originalBytes: acc.originalBytes + (b.kind === 'genesis' ? 0 : b.size),
          uniqueBytes: acc.uniqueBytes + unique[b.seq - from]!,
          storedBytes: acc.storedBytes + stored[b.seq - from]!,
        };
        if (acc.seq % this.#step === 0) this.#keep(acc);
      }
      this.#last = acc;
      await breathe();
    }
  }

  #keep(p: GrowthPoint): void {
    this.#points.push(p);
    if (this.#points.length <= this.#maxPoints) return;
    this.#step *= 2;
    this.#points = this.#points.filter((q) => q.seq % this.#step === 0);
  }

  /** Marks a chunk as referenced; true the first time. */
  #mark(rid: number): boolean {
    const byte = rid >>> 3;
    if (byte >= this.#seen.length) {
      const grown = new Uint8Array(Math.max(this.#seen.length * 2, byte + 1));
      grown.set(this.#seen);
      this.#seen = grown;
    }
    const bit = 1 << (rid & 7);
    if (this.#seen[byte]! & bit) return false;
    this.#seen[byte]! |= bit;
    return true;
  }
}
