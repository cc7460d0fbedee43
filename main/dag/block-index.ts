import type { Statement } from 'better-sqlite3';
import { inSnapshot, type Db } from '../db/database.js';
import type { BlockHeader } from '../../shared/block-header.js';
import { BLOCK_COLUMNS, BY_HASH, decodeRow, parentHashes, type BlockRow } from './stored-header.js';
import { TaskSnapshot, type TaskSnapshotOptions } from './task-snapshot.js';

export interface BlockRecord {
  readonly seq: number;
  readonly hash: Buffer;
  readonly header: BlockHeader;
}

type Row = BlockRow;
const SEQ_BY_HASH = `SELECT seq FROM blocks WHERE ${BY_HASH}`;
const COLS = BLOCK_COLUMNS.split(', ')
  .map((c) => `b.${c}`)
  .join(', ');

/**
 * Read-side queries over the DAG. Lookups by hash use the hash-prefix index; depth and time ranges
 * use the rowid (both grow with seq); children come from `edges` and the implied next block,
 * parents from the headers. See test/main/dag for the query plans.
 */
export class BlockIndex {
  readonly #byHash;
  readonly #bySeq;
  readonly #seqByHash;
  readonly #range;
  readonly #depthAt;
  readonly #tsAt;
  readonly #maxSeq;
  readonly #children;
  readonly #descendants;
  readonly #parents;

  readonly #db: Db;
  /** Lookups by hash share a read snapshot (see TaskSnapshot); absent without a file. */
  readonly #task: TaskSnapshot | undefined;
  #taskSeqByHash: Statement | undefined;

  /**
   * `file`: the database's path, for the lookups' own read-only connection; `snapshots.soleWriter`:
   * this process holds the writer lock, so lookup snapshots may outlast a task (see TaskSnapshot).
   */
  constructor(db: Db, file?: string, snapshots?: TaskSnapshotOptions) {
    this.#db = db;
    this.#task = file === undefined ? undefined : new TaskSnapshot(db, file, snapshots);
    this.#parents = parentHashes(db);
    this.#byHash = db.prepare(`SELECT ${BLOCK_COLUMNS} FROM blocks WHERE ${BY_HASH}`);
    this.#seqByHash = db.prepare(SEQ_BY_HASH).pluck();
    this.#bySeq = db.prepare(`SELECT ${BLOCK_COLUMNS} FROM blocks WHERE seq = ?`);
    this.#range = db.prepare(`SELECT ${BLOCK_COLUMNS} FROM blocks WHERE seq BETWEEN ? AND ? ORDER BY seq LIMIT ?`);
    this.#depthAt = db.prepare('SELECT depth FROM blocks WHERE seq = ?').pluck();
    this.#tsAt = db.prepare('SELECT ts FROM blocks WHERE seq = ?').pluck();
    this.#maxSeq = db.prepare('SELECT max(seq) FROM blocks').pluck();
    // Block p's children: the stored edges and the implied p + 1 (schema 14: every block links the
    // block before it, and that edge is not stored).
    this.#children = db.prepare(
      `SELECT ${COLS} FROM blocks b WHERE b.seq IN (SELECT child FROM edges WHERE parent = ? UNION ALL SELECT ? + 1)
         ORDER BY b.seq`,
    );
    // So every later block descends from p: p + 1 is its child, p + 2 the child of p + 1, …
    this.#descendants = db.prepare(`SELECT ${COLS} FROM blocks b WHERE b.seq > ? ORDER BY b.seq LIMIT ?`);
  }

  #record = (r: Row): BlockRecord => ({
    seq: r.seq,
    hash: r.hash,
    header: decodeRow(r, this.#parents),
  });

  /** The block and its decoded header (the parents' hashes read in the same snapshot). */
  get(hash: Uint8Array): BlockRecord | undefined {
    return this.snapshot(() => {
      const r = this.#byHash.get(hash, hash) as Row | undefined;
      return r && this.#record(r);
    });
  }

  /**
   * Runs `fn`'s reads in one read transaction (see {@link inSnapshot}): one lock for many lookups,
   * and one consistent state even while another process commits.
   */
  snapshot<T>(fn: () => T): T {
    return inSnapshot(this.#db, fn);
  }

  /**
   * The block's seq (its log leaf index) without decoding the header: the hot lookup. Lookups share
   * a read snapshot (TaskSnapshot: those of one task, or in the writer's process those close
   * together); inside the writer's transaction they read through it, and see what it has written.
   */
  seqOf(hash: Uint8Array): number | undefined {
    const reader = this.#task?.enter();
    if (!reader) return this.#seqByHash.get(hash, hash) as number | undefined;
    this.#taskSeqByHash ??= reader.prepare(SEQ_BY_HASH).pluck();
    return this.#taskSeqByHash.get(hash, hash) as number | undefined;
  }

  /** Whether a lookup snapshot is open (for tests). */
  get taskSnapshotOpen(): boolean {
    return this.#task?.open ?? false;
  }

  /** Closes the lookups' own connection; call before closing the database. */
  close(): void {
    this.#task?.close();
  }

  /** Number of blocks (genesis included); the newest has seq size() - 1. */
  size(): number {
    return ((this.#maxSeq.get() as number | null) ?? -1) + 1;
  }

  /** The blocks at log positions first … last, oldest first. */
  range(first: number, last: number): BlockRecord[] {
    if (last < first) return [];
    return this.snapshot(() => (this.#range.all(first, last, last - first + 1) as Row[]).map(this.#record));
  }

  bySeq(seq: number): BlockRecord | undefined {
    return this.snapshot(() => {
      const r = this.#bySeq.get(seq) as Row | undefined;
      return r && this.#record(r);
    });
  }

  /** First seq whose value (depth or ts, both non-decreasing in seq) is ≥ `v`: O(log n) point reads. */
  #lowerBound(at: (seq: number) => number, v: number): number {
    let lo = 0;
    let hi = ((this.#maxSeq.get() as number | null) ?? -1) + 1;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      if (at(mid) < v) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  #between(at: (seq: number) => number, min: number, max: number, limit: number): BlockRecord[] {
    if (max < min) return [];
    return this.snapshot(() => {
      const first = this.#lowerBound(at, min);
      const last = this.#lowerBound(at, max + 1) - 1;
      return (this.#range.all(first, last, limit) as Row[]).map(this.#record);
    });
  }

  byDepth(min: number, max: number, limit = 1000): BlockRecord[] {
    return this.#between((s) => this.#depthAt.get(s) as number, min, max, limit);
  }

  byTime(fromMs: number, toMs: number, limit = 1000): BlockRecord[] {
    return this.#between((s) => this.#tsAt.get(s) as number, fromMs, toMs, limit);
  }

  /** Parents, from the block's own header. */
  parents(seq: number): BlockRecord[] {
    const b = this.bySeq(seq);
    if (!b) return [];
    return b.header.parents
      .map((h) => this.get(h))
      .filter((p): p is BlockRecord => p !== undefined)
      .sort((x, y) => x.seq - y.seq);
  }

  children(seq: number): BlockRecord[] {
    return this.snapshot(() => (this.#children.all(seq, seq) as Row[]).map(this.#record));
  }

  /** Ancestors, newest first, at most `limit`: a walk over parent links in the headers. */
  ancestors(seq: number, limit = 1000): BlockRecord[] {
    return this.snapshot(() => this.#ancestors(seq, limit));
  }

  #ancestors(seq: number, limit: number): BlockRecord[] {
    const seen = new Set<number>([seq]);
    const frontier = [seq];
    const found: BlockRecord[] = [];
    // Walk newest-first so the `limit` nearest ancestors are the ones returned.
    while (frontier.length > 0 && found.length < limit * 4) {
      frontier.sort((a, b) => b - a);
      const cur = frontier.shift()!;
      for (const p of this.parents(cur)) {
        if (seen.has(p.seq)) continue;
        seen.add(p.seq);
        found.push(p);
        frontier.push(p.seq);
      }
    }
    return found.sort((a, b) => b.seq - a.seq).slice(0, limit);
  }

  descendants(seq: number, limit = 1000): BlockRecord[] {
    return this.snapshot(() => (this.#descendants.all(seq, limit) as Row[]).map(this.#record));
  }

  /**
   * A short path of headers from a block to genesis, taking at each step the shallowest parent
   * (the random historical links jump far back, so the path is much shorter than the depth).
   * The result starts with the block's shallowest parent and ends with genesis.
   */
  pathToGenesis(seq: number): BlockRecord[] {
    return this.snapshot(() => this.#pathToGenesis(seq));
  }

  #pathToGenesis(seq: number): BlockRecord[] {
    const out: BlockRecord[] = [];
    let cur = this.bySeq(seq);
    while (cur && cur.header.kind !== 'genesis') {
      const ps = this.parents(cur.seq);
      if (ps.length === 0) throw new Error(`block ${cur.hash.toString('hex')} has no parents in the index`);
      let best = ps[0]!;
      for (const p of ps) if (p.header.depth < best.header.depth) best = p;
      out.push(best);
      cur = best;
    }
    return out;
  }
}
