import type { BlockIndex, BlockRecord } from '../dag/block-index.js';
import type { BlockView, Responses } from '../../shared/ipc-contract.js';

/** A block as the renderer shows it: header fields, and its parents by hash and by log position. */
export function blockView(index: BlockIndex, b: BlockRecord): BlockView {
  const h = b.header;
  return {
    hash: b.hash.toString('hex'),
    seq: b.seq,
    kind: h.kind,
    depth: h.depth,
    time: new Date(h.timestamp).toISOString(),
    size: h.size,
    storedSize: h.storedSize,
    name: h.meta.name ?? '',
    parents: h.parents.map((p) => Buffer.from(p).toString('hex')),
    // Every parent is in the index (the writer and the integrity check see to it); -1 would say otherwise.
    parentSeqs: h.parents.map((p) => index.seqOf(p) ?? -1),
  };
}

/**
 * The blocks at [offset, offset + limit) counted from the newest (offset 0), newest first: one
 * range read by log position, however deep the page.
 */
export function blocksPage(index: BlockIndex, offset: number, limit: number): Responses['archive.blocks'] {
  // One read transaction for the page and its parents' lookups (up to 5 per block).
  return index.snapshot(() => {
    const total = index.size();
    const newest = total - 1 - offset;
    const items = index
      .range(Math.max(0, newest - limit + 1), newest)
      .reverse()
      .map((b) => blockView(index, b));
    return { total, offset, items };
  });
}
