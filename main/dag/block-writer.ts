import { HeldRows, inReadSnapshot, type Db } from '../db/database.js';
import { compareBytes, sortSmall } from '../../shared/bytes.js';
import {
  BLOCK_VERSION,
  encodeHeader,
  hashHeader,
  type BlockHeader,
  type BlockKind,
} from '../../shared/block-header.js';
import { MerkleLog } from '../log/merkle-log.js';
import { IdentityIndex } from './identity-index.js';
import { asBuffer, nodeSha256 } from '../util/sha256.js';
import { ParentSelector, type ParentRuleInit } from './parent-selector.js';
import { RootFilter } from './root-filter.js';
import {
  BLOCK_COLUMNS,
  COMPACT_TAG,
  compactMeta,
  decodeRow,
  encodeCompact,
  parentHashes,
  storedMeta,
  type BlockRow,
} from './stored-header.js';

/** Content roots of a range of blocks by seq: a root filter is filled from them (see #mayHaveRoot). */
export const ROOTS_IN_RANGE = 'SELECT content_root FROM blocks WHERE seq >= ? AND seq < ?';

/** Blocks read per append while the root filter is being filled (~2 ms on the Zen 1 machine). */
export const FILTER_STEP = 1024;
/** Identity probes a writer makes before it fills a root filter: a short-lived one never does. */
export const FILTER_AFTER_PROBES = 1024;
const FILTER_MIN_CAPACITY = 65_536;

/** Edge rows a {@link BlockWriter.batch} holds back, at most, before it writes them. */
export const PENDING_EDGES = 64;

/** What the caller knows about a new object; the writer adds parents, depth and timestamp. */
export type BlockSpec = Pick<BlockHeader, 'contentRoot' | 'size' | 'storedSize' | 'chunkCount' | 'codec' | 'meta'> & {
  readonly kind: Exclude<BlockKind, 'genesis'>;
};

export interface WrittenBlock {
  readonly seq: number;
  readonly hash: Buffer;
  readonly header: BlockHeader;
  /** True when an identical object (kind, content and metadata) was already stored: no new block. */
  readonly reused: boolean;
}

/** Same metadata (kind and content root are compared by the index lookup). */
function sameMeta(meta: Readonly<Record<string, string>>, spec: BlockSpec): boolean {
  const a = Object.keys(meta);
  const b = Object.keys(spec.meta);
  return a.length === b.length && b.every((k) => meta[k] === spec.meta[k]);
}

/**
 * Appends blocks to the DAG and the block log. Every method that writes must run inside the
 * caller's transaction; after a rollback the caller must call {@link reload}.
 */
export class BlockWriter {
  readonly #db: Db;
  readonly log: MerkleLog;
  readonly selector: ParentSelector;
  readonly #now: () => number;
  #lastTs = 0;
  readonly #rule: ParentRuleInit;
  readonly #random: () => number;
  readonly #insertBlock;
  /** A block's edges, or a batch's (held back), go in with one multi-row statement. */
  readonly #edges;
  #batchDepth = 0;
  /** Which blocks may hold an identical object (identity-index.ts). */
  readonly identity: IdentityIndex;
  readonly #bySeq;
  readonly #rootsInRange;
  /** Every written block's content root; complete once #filled reaches #fillEnd (see #mayHaveRoot). */
  #filter: RootFilter | undefined;
  /** Blocks before the filter existed: [#filled, #fillEnd) are still to be read into it. */
  #filled = 0;
  #fillEnd = 0;
  #probes = 0;
  readonly #parents;

  /** `identity`: the archive's (file-backed); by default one held in memory, read from `db` now. */
  constructor(
    db: Db,
    init: { rule?: ParentRuleInit; random?: () => number; now?: () => number; identity?: IdentityIndex } = {},
  ) {
    this.#db = db;
    this.#now = init.now ?? Date.now;
    this.#rule = init.rule ?? {};
    this.#random = init.random ?? Math.random;
    this.log = new MerkleLog(db);
    this.selector = new ParentSelector(this.#rule, this.#random);
    this.#insertBlock = db.prepare(
      'INSERT INTO blocks (seq, hash, kind, depth, ts, size, stored_size, content_root, header) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    // A block adds at most 4 stored edges (5 parents, one implied): a statement has ≤ PENDING_EDGES rows.
    this.#edges = new HeldRows(db, 'edges (parent, child)', '(?, ?)', PENDING_EDGES - 3);
    this.#bySeq = db.prepare<[number], BlockRow>(`SELECT ${BLOCK_COLUMNS} FROM blocks WHERE seq = ?`);
    this.#rootsInRange = db.prepare<[number, number], Buffer>(ROOTS_IN_RANGE).pluck();
    this.identity = init.identity ?? new IdentityIndex(db);
    this.#parents = parentHashes(db);
    this.#loadWindow();
  }

  /** The next block's seq (= log size). */
  get size(): number {
    return this.log.size;
  }

  /** The root filter's state: not made yet (fewer probes than FILTER_AFTER_PROBES), being filled, or in use. */
  get rootFilter(): 'off' | 'filling' | 'ready' {
    if (this.#filter === undefined) return 'off';
    return this.#filled < this.#fillEnd ? 'filling' : 'ready';
  }

  /**
   * Runs `fn`, whose appends hold back their edge rows and write up to PENDING_EDGES of them with
   * one statement, not one statement a block. A million block appends: +3, +20 and +26 % in three
   * alternating pairs (docs/BENCHMARKS.md, run AM). (Holding back the block rows too, 16 to a
   * statement, was slower: SQLite took 12–20 µs more a row in a multi-row insert into `blocks`.)
   * The log holds back its node rows the same way (MerkleLog.hold).
   * Held-back edges are written when `fn` returns (and whenever PENDING_EDGES are held), so `fn`
   * must not read edges. If `fn` throws, held rows are dropped: the caller rolls the transaction
   * back and calls {@link reload}, as after any failed write.
   */
  batch<T>(fn: () => T): T {
    if (this.#batchDepth++ === 0) {
      this.#edges.hold();
      this.log.hold();
    }
    try {
      const result = fn();
      if (this.#batchDepth === 1) {
        this.#edges.release();
        this.log.flush();
      }
      return result;
    } catch (e) {
      this.#edges.drop();
      this.log.drop();
      throw e;
    } finally {
      this.#batchDepth--;
    }
  }

  /** Re-reads in-memory state (log frontier, parent window) from the database. */
  reload(): void {
    this.#edges.drop();
    this.log.reload();
    this.identity.truncate(this.log.size);
    (this as { selector: ParentSelector }).selector = new ParentSelector(this.#rule, this.#random);
    this.#loadWindow();
  }

  #loadWindow(): void {
    const maxDepth = (this.#db.prepare('SELECT max(depth) FROM blocks').pluck().get() as number | null) ?? -1;
    const minDepth = maxDepth - (this.selector.rule.historicalDepths ?? 10_000);
    const rows = this.#db
      .prepare('SELECT seq, hash, depth, ts FROM blocks WHERE depth > ? ORDER BY seq')
      .all(minDepth) as { seq: number; hash: Buffer; depth: number; ts: number }[];
    if (rows.length === 0) return;
    const children = new Map<number, number>();
    for (const r of this.#db
      .prepare('SELECT parent, count(*) AS n FROM edges WHERE parent >= ? GROUP BY parent')
      .all(rows[0]!.seq) as { parent: number; n: number }[])
      children.set(r.parent, r.n);
    // Every block but the newest also has the implied child seq + 1 (schema 14).
    const newest = rows.at(-1)!.seq;
    for (const r of rows) {
      const n = (children.get(r.seq) ?? 0) + (r.seq < newest ? 1 : 0);
      this.selector.add({ seq: r.seq, hash: r.hash, depth: r.depth, children: n });
    }
    this.#lastTs = (this.#db.prepare('SELECT max(ts) FROM blocks').pluck().get() as number | null) ?? 0;
  }

  /** Writes the genesis block (seq 0). */
  writeGenesis(meta: Readonly<Record<string, string>>): WrittenBlock {
    if (this.log.size !== 0) throw new Error('the archive already has a genesis block');
    const header: BlockHeader = {
      version: BLOCK_VERSION,
      kind: 'genesis',
      parents: [],
      depth: 0,
      timestamp: this.#timestamp(),
      contentRoot: nodeSha256(new Uint8Array(0)),
      size: 0,
      storedSize: 0,
      chunkCount: 0,
      codec: 'none',
      meta,
    };
    return this.#write(header, []);
  }

  /**
   * Appends one object's block, or returns the existing block of an identical object. A malformed
   * spec throws HeaderFormatError before anything is written. `unique`: the caller knows no stored
   * block has this content (it references a chunk nothing referenced before), so none is looked for.
   */
  append(spec: BlockSpec, unique = false): WrittenBlock {
    // One block per distinct object: the same content with the same kind and metadata is the block
    // already stored. Copies of one file (same content, other names or mtimes) share a content
    // root: the corpus has files with hundreds, and a folder may hold thousands of empty files. So
    // the identity index keys on a hash of the metadata too, and the candidates it gives are
    // compared whole here.
    if (!unique && this.#mayHaveRoot(spec.contentRoot)) {
      const found = this.#identical(spec);
      if (found) return found;
    }
    // In header order (ascending hash), so the stored seqs line up with the header's parents.
    const parents = sortSmall(this.selector.choose(), (a, b) => compareBytes(a.hash, b.hash));
    // Loops, not map(): see Committer's #append (the arrays' elements kinds must not change once
    // the optimising compiler inlines the caller).
    const hashes: Buffer[] = [];
    const seqs: number[] = [];
    let depth = 0;
    for (const p of parents) {
      hashes.push(p.hash);
      seqs.push(p.seq);
      depth = Math.max(depth, p.depth + 1);
    }
    const header: BlockHeader = {
      version: BLOCK_VERSION,
      kind: spec.kind,
      parents: hashes,
      depth,
      timestamp: this.#timestamp(),
      contentRoot: spec.contentRoot,
      size: spec.size,
      storedSize: spec.storedSize,
      chunkCount: spec.chunkCount,
      codec: spec.codec,
      meta: spec.meta,
    };
    return this.#write(header, seqs);
  }

  #identical(spec: BlockSpec): WrittenBlock | undefined {
    const meta = compactMeta(spec.meta);
    for (const seq of this.identity.candidates(spec.contentRoot, meta)) {
      const row = this.#bySeq.get(seq);
      if (!row || row.kind !== spec.kind || !row.content_root.equals(spec.contentRoot)) continue;
      // A compact row ends with its whole metadata: copies under other names or mtimes differ
      // there, and are passed over without decoding the row.
      const h = row.header;
      if (h[0] === COMPACT_TAG && (h.length < meta.length || !h.subarray(h.length - meta.length).equals(meta)))
        continue;
      if (!sameMeta(storedMeta(row, this.#parents), spec)) continue;
      return { seq: row.seq, hash: row.hash, header: decodeRow(row, this.#parents), reused: true };
    }
    return undefined;
  }

  /**
   * Whether some stored block's content root may start with this root's 8 bytes. A writer that
   * keeps appending builds an in-memory filter of every block's root: each block it writes goes in
   * at once, the blocks stored before are read in, FILTER_STEP per probe, and from then on the
   * identity index is asked only when the filter says "maybe". A rolled-back block stays in the
   * filter: a "maybe" too many, never a "no" too many. (This writer is the archive's only one:
   * WriterLock.)
   */
  #mayHaveRoot(root: Uint8Array): boolean {
    if (this.#filter === undefined && ++this.#probes > FILTER_AFTER_PROBES) {
      this.#filter = new RootFilter(Math.max(FILTER_MIN_CAPACITY, 2 * this.log.size));
      this.#fillEnd = this.log.size;
    }
    if (this.#filter !== undefined) {
      if (this.#filled < this.#fillEnd) {
        const to = Math.min(this.#filled + FILTER_STEP, this.#fillEnd);
        for (const r of this.#rootsInRange.all(this.#filled, to)) this.#filter.add(r);
        this.#filled = to;
      }
      if (this.#filled >= this.#fillEnd) return this.#filter.mayHave(root);
    }
    return true;
  }

  #write(header: BlockHeader, parentSeqs: number[]): WrittenBlock {
    // Readers in a snapshot cache the block rows they read as committed for good (stored-header.ts).
    if (inReadSnapshot(this.#db)) throw new Error('internal: a block is never written inside a read snapshot');
    // Genesis keeps its canonical bytes (it has no parents to point at, and is read at every open);
    // other blocks store the compact form, and their canonical bytes are only hashed.
    const encoded = parentSeqs.length === 0 ? asBuffer(encodeHeader(header)) : undefined;
    const hash = asBuffer(encoded ? nodeSha256(encoded) : hashHeader(header, nodeSha256));
    const seq = this.log.size;
    const stored = encoded ?? encodeCompact(header, parentSeqs);
    this.#insertBlock.run(
      seq,
      hash,
      header.kind,
      header.depth,
      header.timestamp,
      header.size,
      header.storedSize,
      header.contentRoot,
      stored,
    );
    this.identity.added(seq, header.contentRoot, stored);
    // The edge from the block before (every block links it) is implied, not stored (schema 14).
    const edges = this.#edges.values;
    for (const p of parentSeqs) {
      if (p !== seq - 1) edges.push(p, seq);
      this.selector.addChild(p);
    }
    this.#edges.added();
    this.log.append(hash);
    this.selector.add({ seq, hash, depth: header.depth });
    this.#filter?.add(header.contentRoot);
    return { seq, hash, header, reused: false };
  }

  #timestamp(): number {
    // Never go backwards, even if the wall clock does.
    this.#lastTs = Math.max(this.#lastTs, this.#now());
    return this.#lastTs;
  }
}
