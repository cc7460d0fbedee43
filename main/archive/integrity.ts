import { equalBytes, toHex } from '../../shared/bytes.js';
import { encodeHeader, MIN_PARENTS } from '../../shared/block-header.js';
import { BLOCK_COLUMNS, BY_HASH, COMPACT_TAG, decodeRow, parentHashes, type BlockRow } from '../dag/stored-header.js';
import { verifyCheckpointSignature } from '../../shared/signature-cache.js';
import { leafHash, merkleRoot, nodeHash } from '../../shared/merkle.js';
import { MerkleLog } from '../log/merkle-log.js';
import { nodeSha256 } from '../util/sha256.js';
import { genesisPublicKey, listCheckpoints } from './checkpoints.js';
import { inSnapshot } from '../db/database.js';
import type { ArchiveContext } from './context.js';

export interface IntegrityProblem {
  readonly what: 'block' | 'edge' | 'log' | 'checkpoint' | 'object' | 'chunk';
  /** The block, chunk or checkpoint concerned (hex hash, or `size N` for checkpoints). */
  readonly id: string;
  readonly detail: string;
}

export interface IntegrityReport {
  readonly ok: boolean;
  readonly blocks: number;
  readonly chunks: number;
  readonly checkpoints: number;
  readonly problems: IntegrityProblem[];
}

export interface CheckOptions {
  /** Skip reading and re-hashing every chunk's bytes (structure only). Default false. */
  readonly quick?: boolean;
  readonly onProgress?: (e: { type: 'pakit:check:progress'; phase: string; done: number; total: number }) => void;
}

/**
 * Verifies everything the archive claims: each block's hash over its canonical header, parents
 * existing earlier in the log, the depth rule, the edge table, every node of the Merkle log,
 * every checkpoint's root and signature, every object's chunk list against its content root, and
 * (unless quick) every chunk's bytes against its id.
 */
export function checkIntegrity(ctx: ArchiveContext, opts: CheckOptions = {}): IntegrityReport {
  // One committed state throughout (one read transaction), so a writer committing in another
  // process during a long check cannot make the counts and the rows disagree. The WAL cannot be
  // checkpointed past that state until the check ends.
  return inSnapshot(ctx.db, () => checkOf(ctx, opts));
}

function checkOf(ctx: ArchiveContext, opts: CheckOptions): IntegrityReport {
  const problems: IntegrityProblem[] = [];
  const add = (what: IntegrityProblem['what'], id: string, detail: string): void => {
    if (problems.length < 10_000) problems.push({ what, id, detail });
  };
  const db = ctx.db;
  const total = db.prepare('SELECT count(*) FROM blocks').pluck().get() as number;
  const parentInfo = db.prepare(`SELECT seq, depth FROM blocks WHERE ${BY_HASH}`);
  const edgeExists = db.prepare('SELECT 1 FROM edges WHERE parent = ? AND child = ?').pluck();
  let headerEdges = 0;
  let lastDepth = -1;
  const chunkIds = db
    .prepare('SELECT c.id FROM object_chunks o JOIN chunks c ON c.rid = o.chunk WHERE o.seq = ? ORDER BY o.idx')
    .pluck();
  const objectChunkCount = db.prepare('SELECT count(*) FROM object_chunks WHERE seq = ?').pluck();

  let expectedSeq = 0;
  let lastTs = 0;
  const parents = parentHashes(db);
  // Rows are read in pages, not iterated: rebuilding a compact header reads its parents' rows, and
  // better-sqlite3 keeps the connection busy while a statement iterates.
  const page = db.prepare<[number], BlockRow>(
    `SELECT ${BLOCK_COLUMNS} FROM blocks WHERE seq >= ? ORDER BY seq LIMIT 1000`,
  );
  const rows = function* (): Generator<BlockRow> {
    for (let from = 0; ;) {
      const got = page.all(from);
      yield* got;
      if (got.length < 1000) return;
      from = got.at(-1)!.seq + 1;
    }
  };
  for (const row of rows()) {
    const id = toHex(row.hash);
    if (row.seq !== expectedSeq)
      add('block', id, `log position ${row.seq}, expected ${expectedSeq}: blocks are missing`);
    expectedSeq = row.seq + 1;
    if (row.seq % 10_000 === 0)
      opts.onProgress?.({ type: 'pakit:check:progress', phase: 'blocks', done: row.seq, total });
    let h;
    try {
      h = decodeRow(row, parents);
    } catch (e) {
      add('block', id, `header does not decode: ${(e as Error).message}`);
      continue;
    }
    // A compact header is hashed as rebuilt from its row: any changed column changes the hash.
    const canonical = row.header[0] === COMPACT_TAG ? encodeHeader(h) : row.header;
    if (!equalBytes(nodeSha256(canonical), row.hash)) add('block', id, 'hash does not match its header');
    if (
      h.kind !== row.kind ||
      h.depth !== row.depth ||
      h.timestamp !== row.ts ||
      h.size !== row.size ||
      !equalBytes(h.contentRoot, row.content_root)
    )
      add('block', id, 'index columns disagree with the header');
    if ((row.seq === 0) !== (h.kind === 'genesis')) add('block', id, 'genesis must be exactly the first block');
    if (h.timestamp < lastTs) add('block', id, 'timestamp earlier than the previous block');
    lastTs = h.timestamp;
    const parentSeqs: number[] = [];
    let maxParentDepth = -1;
    for (const p of h.parents) {
      const pi = parentInfo.get(p, p) as { seq: number; depth: number } | undefined;
      if (!pi) add('block', id, `parent ${toHex(p)} does not exist`);
      else if (pi.seq >= row.seq) add('block', id, `parent ${toHex(p)} comes later in the log`);
      else {
        parentSeqs.push(pi.seq);
        maxParentDepth = Math.max(maxParentDepth, pi.depth);
      }
    }
    if (h.kind !== 'genesis') {
      if (maxParentDepth >= 0 && h.depth !== maxParentDepth + 1)
        add('block', id, `depth ${h.depth}, expected ${maxParentDepth + 1}`);
      if (h.parents.length < Math.min(MIN_PARENTS, row.seq)) add('block', id, `only ${h.parents.length} parent(s)`);
    }
    // The edge from the block before is implied, not stored (schema 14); the others must be.
    for (const p of parentSeqs) {
      if (p === row.seq - 1) continue;
      headerEdges++;
      if (!edgeExists.get(p, row.seq)) add('edge', id, `edge from parent ${p} missing`);
    }
    // The rule "always link the newest block" makes depth grow with seq; range queries rely on it.
    if (h.kind !== 'genesis' && !parentSeqs.includes(row.seq - 1))
      add('block', id, 'does not link the block before it');
    if (h.depth <= lastDepth) add('block', id, `depth ${h.depth} does not exceed the previous block's ${lastDepth}`);
    lastDepth = h.depth;
    if (h.kind !== 'genesis') {
      const ids = chunkIds.all(row.seq) as Buffer[];
      const listed = objectChunkCount.get(row.seq) as number;
      if (listed !== h.chunkCount || ids.length !== h.chunkCount)
        add('object', id, `${listed} chunks indexed (${ids.length} found), header says ${h.chunkCount}`);
      else if (!equalBytes(merkleRoot(ids, nodeSha256), h.contentRoot))
        add('object', id, 'chunk list does not match the content root');
    }
  }

  // No UNIQUE constraint holds block hashes (schema 10) nor chunk ids (schema 13) apart.
  for (const t of shared(db, 'blocks', 'hash')) add('block', toHex(t.value), `${t.n} blocks share this hash`);
  for (const t of shared(db, 'chunks', 'id')) add('chunk', toHex(t.value), `${t.n} chunk rows share this id`);

  const edgeRows = db.prepare('SELECT count(*) FROM edges').pluck().get() as number;
  if (edgeRows !== headerEdges)
    add('edge', 'edges', `${edgeRows} edge rows, the headers name ${headerEdges} (besides the block before)`);

  checkLog(ctx, total, add);

  const pk = genesisPublicKey(ctx);
  const log = new MerkleLog(db);
  const checkpoints = listCheckpoints(ctx);
  for (const c of checkpoints) {
    const id = `size ${c.size}`;
    if (!verifyCheckpointSignature(c, pk)) add('checkpoint', id, 'signature does not verify with the genesis key');
    if (c.size > log.size) add('checkpoint', id, `covers ${c.size} blocks but the log has ${log.size}`);
    else if (!equalBytes(log.root(c.size), c.root)) add('checkpoint', id, 'root does not match the log');
  }

  let chunks = 0;
  if (!opts.quick) {
    const bad = ctx.chunks.check((done, n) => {
      chunks = done;
      if (done % 1000 === 0) opts.onProgress?.({ type: 'pakit:check:progress', phase: 'chunks', done, total: n });
    });
    for (const p of bad) add('chunk', p.id, `${p.problem}: ${p.detail}`);
  }
  chunks = ctx.chunks.totals().chunks;
  return { ok: problems.length === 0, blocks: total, chunks, checkpoints: checkpoints.length, problems };
}

/**
 * Values of `column` held by more than one row of `table`, and how many: only rows sharing the
 * value's 8-byte prefix (the index they are found by) are compared.
 */
function shared(
  db: ArchiveContext['db'],
  table: 'blocks' | 'chunks',
  column: 'hash' | 'id',
): { value: Buffer; n: number }[] {
  const prefix = `substr(${column}, 1, 8)`;
  return db
    .prepare(
      `SELECT ${column} AS value, count(*) AS n FROM ${table} WHERE ${prefix} IN
         (SELECT ${prefix} FROM ${table} GROUP BY ${prefix} HAVING count(*) > 1)
       GROUP BY ${column} HAVING count(*) > 1`,
    )
    .all() as { value: Buffer; n: number }[];
}

/** Recomputes every interior node of the log from the level below and compares. */
function checkLog(ctx: ArchiveContext, size: number, add: (w: 'log', id: string, d: string) => void): void {
  const count = ctx.db.prepare('SELECT count(*) FROM log_nodes').pluck().get() as number;
  if (count !== MerkleLog.nodeCount(size))
    add('log', 'log', `${count} stored nodes, expected ${MerkleLog.nodeCount(size)}`);
  const level = ctx.db.prepare('SELECT idx, hash FROM log_nodes WHERE level = ? ORDER BY idx');
  // The leaves are the blocks' hashes (schema 8 stores no level 0).
  let below: { idx: number; hash: Uint8Array }[] = (
    ctx.db.prepare('SELECT seq AS idx, hash FROM blocks ORDER BY seq').all() as { idx: number; hash: Buffer }[]
  ).map((r) => ({ idx: r.idx, hash: leafHash(r.hash, nodeSha256) }));
  for (let l = 1; below.length >= 2; l++) {
    const here = level.all(l) as { idx: number; hash: Buffer }[];
    for (const n of here) {
      const a = below[2 * n.idx];
      const b = below[2 * n.idx + 1];
      if (!a || !b || !equalBytes(nodeHash(a.hash, b.hash, nodeSha256), n.hash))
        add('log', `node ${l}/${n.idx}`, 'does not match its children');
    }
    if (here.length !== Math.floor(below.length / 2))
      add('log', `level ${l}`, `${here.length} nodes, expected ${Math.floor(below.length / 2)}`);
    below = here;
  }
}
