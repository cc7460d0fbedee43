/**
 * Schema version 14: the edge from each block to the block just before it is no longer stored.
 * Every block links the newest block before it (the parent rule's first part, which `pakit check`
 * verifies), so block p always has child p + 1, and the row said nothing a reader could not know.
 * It was one of a block's three or four edge rows; appending a million metadata-only blocks went
 * ~4 % faster without it (docs/BENCHMARKS.md run AL). Readers add the implied child
 * (main/dag/block-index.ts, main/archive/stats.ts, the writer's parent window).
 */
export const version = 14;

export const sql = `
DELETE FROM edges WHERE child = parent + 1;
`;
