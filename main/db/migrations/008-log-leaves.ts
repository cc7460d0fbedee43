/**
 * Schema version 8: the block log's leaves are no longer stored. Leaf i is the hash of the block
 * at log position i, which `blocks` holds already (main/log/merkle-log.ts reads it from there);
 * the stored copies were 1.5 MB of the bench corpus's index and one more row per append.
 */
export const version = 8;

export const sql = `
DELETE FROM log_nodes WHERE level = 0;
`;
