import { compareBytes, fromHex } from '../../shared/bytes.js';
import { checkpointMessage, type SignedCheckpoint } from '../../shared/checkpoint.js';
import { requireWriter, type ArchiveContext } from './context.js';
import { ReadOnlyArchiveError } from './errors.js';

interface Row {
  size: number;
  root: Buffer;
  tips: Buffer;
  ts: number;
  signature: Buffer;
}

function fromRow(ctx: ArchiveContext, r: Row): SignedCheckpoint {
  const tips: Uint8Array[] = [];
  for (let o = 0; o < r.tips.length; o += 32) tips.push(r.tips.subarray(o, o + 32));
  return { archive: ctx.genesis.hash, size: r.size, root: r.root, tips, timestamp: r.ts, signature: r.signature };
}

export function latestCheckpoint(ctx: ArchiveContext): SignedCheckpoint | undefined {
  const r = ctx.db.prepare('SELECT * FROM checkpoints ORDER BY size DESC LIMIT 1').get() as Row | undefined;
  return r && fromRow(ctx, r);
}

export function checkpointAt(ctx: ArchiveContext, size: number): SignedCheckpoint | undefined {
  const r = ctx.db.prepare('SELECT * FROM checkpoints WHERE size = ?').get(size) as Row | undefined;
  return r && fromRow(ctx, r);
}

/** The earliest checkpoint whose log includes leaf `seq`. */
export function firstCheckpointCovering(ctx: ArchiveContext, seq: number): SignedCheckpoint | undefined {
  const r = ctx.db.prepare('SELECT * FROM checkpoints WHERE size > ? ORDER BY size LIMIT 1').get(seq) as
    Row | undefined;
  return r && fromRow(ctx, r);
}

export function listCheckpoints(ctx: ArchiveContext): SignedCheckpoint[] {
  return (ctx.db.prepare('SELECT * FROM checkpoints ORDER BY size').all() as Row[]).map((r) => fromRow(ctx, r));
}

/**
 * Signs the log as it is now, unless the newest checkpoint already covers every block. Returns the
 * checkpoint that covers the whole log either way.
 */
export function makeCheckpoint(ctx: ArchiveContext, now: () => number = Date.now): SignedCheckpoint {
  const writer = requireWriter(ctx);
  if (!ctx.key) throw new ReadOnlyArchiveError('no archive key: cannot sign a checkpoint');
  const latest = latestCheckpoint(ctx);
  const size = writer.log.size;
  if (latest && latest.size === size) return latest;
  const tips = writer.selector
    .tips()
    .map((t) => t.hash as Uint8Array)
    .sort(compareBytes);
  const unsigned = {
    archive: ctx.genesis.hash,
    size,
    root: writer.log.root(size),
    tips,
    timestamp: Math.max(now(), latest?.timestamp ?? 0),
  };
  const signature = ctx.key.sign(checkpointMessage(unsigned));
  const signed: SignedCheckpoint = { ...unsigned, signature };
  ctx.db
    .prepare('INSERT INTO checkpoints (size, root, tips, ts, signature) VALUES (?, ?, ?, ?, ?)')
    .run(
      size,
      Buffer.from(signed.root),
      Buffer.concat(tips.map((t) => Buffer.from(t))),
      signed.timestamp,
      Buffer.from(signature),
    );
  return signed;
}

export function genesisPublicKey(ctx: ArchiveContext): Uint8Array {
  const pk = fromHex(ctx.genesis.header.meta.publicKey ?? '');
  if (!pk || pk.length !== 32) throw new Error('the genesis block has no valid publicKey');
  return pk;
}
