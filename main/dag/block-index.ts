import type { Db } from '../db/database.js';
import type { BlockHeader } from '../../shared/block-header.js';
import { decodeStored } from './block-writer.js';

export interface BlockRecord {
  readonly seq: number;
  readonly hash: Buffer;
  readonly header: BlockHeader;
}

interface Row {
  seq: number;
  hash: Buffer;
  header: Buffer;
}

const toRecord = (r: Row): BlockRecord => ({ seq: r.seq, hash: r.hash, header: decodeStored(r.header) });

/**
 * Read-side queries over the DAG. Lookups by hash use the UNIQUE index, ranges use the depth and
 * time indexes, and graph walks use `edges` (indexed both ways); see test/main/dag for the plans.
 */
export class BlockIndex {
  readonly #byHash;
  readonly #bySeq;
  readonly #seqByHash;
  readonly #byDepth;
  readonly #byTime;
  readonly #parents;
  readonly #children;
  readonly #ancestors;
  readonly #descendants;

  constructor(db: Db) {
    this.#byHash = db.prepare('SELECT seq, hash, header FROM blocks WHERE hash = ?');
    this.#seqByHash = db.prepare('SELECT seq FROM blocks WHERE hash = ?').pluck();
    this.#bySeq = db.prepare('SELECT seq, hash, header FROM blocks WHERE seq = ?');
    this.#byDepth = db.prepare(
      'SELECT seq, hash, header FROM blocks WHERE depth BETWEEN ? AND ? ORDER BY depth, seq LIMIT ?',
    );
    this.#byTime = db.prepare('SELECT seq, hash, header FROM blocks WHERE ts BETWEEN ? AND ? ORDER BY ts, seq LIMIT ?');
    this.#parents = db.prepare(
      'SELECT b.seq, b.hash, b.header FROM edges e JOIN blocks b ON b.seq = e.parent WHERE e.child = ? ORDER BY b.seq',
    );
    this.#children = db.prepare(
      'SELECT b.seq, b.hash, b.header FROM edges e JOIN blocks b ON b.seq = e.child WHERE e.parent = ? ORDER BY b.seq',
    );
    this.#ancestors = db.prepare(`
      WITH RECURSIVE anc(seq) AS (
        SELECT parent FROM edges WHERE child = ?
        UNION SELECT e.parent FROM edges e JOIN anc ON e.child = anc.seq
      )
      SELECT b.seq, b.hash, b.header FROM anc JOIN blocks b ON b.seq = anc.seq ORDER BY b.seq DESC LIMIT ?`);
    this.#descendants = db.prepare(`
      WITH RECURSIVE des(seq) AS (
        SELECT child FROM edges WHERE parent = ?
        UNION SELECT e.child FROM edges e JOIN des ON e.parent = des.seq
      )
      SELECT b.seq, b.hash, b.header FROM des JOIN blocks b ON b.seq = des.seq ORDER BY b.seq LIMIT ?`);
  }

  get(hash: Uint8Array): BlockRecord | undefined {
    const r = this.#byHash.get(hash) as Row | undefined;
    return r && toRecord(r);
  }

  /** The block's seq (its log leaf index) without decoding the header: the hot lookup. */
  seqOf(hash: Uint8Array): number | undefined {
    return this.#seqByHash.get(hash) as number | undefined;
  }

  bySeq(seq: number): BlockRecord | undefined {
    const r = this.#bySeq.get(seq) as Row | undefined;
    return r && toRecord(r);
  }

  byDepth(min: number, max: number, limit = 1000): BlockRecord[] {
    return (this.#byDepth.all(min, max, limit) as Row[]).map(toRecord);
  }

  byTime(fromMs: number, toMs: number, limit = 1000): BlockRecord[] {
    return (this.#byTime.all(fromMs, toMs, limit) as Row[]).map(toRecord);
  }

  parents(seq: number): BlockRecord[] {
    return (this.#parents.all(seq) as Row[]).map(toRecord);
  }

  children(seq: number): BlockRecord[] {
    return (this.#children.all(seq) as Row[]).map(toRecord);
  }

  ancestors(seq: number, limit = 1000): BlockRecord[] {
    return (this.#ancestors.all(seq, limit) as Row[]).map(toRecord);
  }

  descendants(seq: number, limit = 1000): BlockRecord[] {
    return (this.#descendants.all(seq, limit) as Row[]).map(toRecord);
  }

  /**
   * A short path of headers from a block to genesis, taking at each step the shallowest parent
   * (the random historical links jump far back, so the path is much shorter than the depth).
   * The result starts with the block's shallowest parent and ends with genesis.
   */
  pathToGenesis(seq: number): BlockRecord[] {
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
