/**
 * Schema version 15: identical objects are found through the identity file (`identity.db`, see
 * main/dag/identity-file.ts), which a worker thread fills from committed blocks, instead of the
 * `blocks_identity` index, which every append updated on the writer's thread: 5–6 µs of a 35–45 µs
 * block append at a million blocks (+21 % without it; docs/BENCHMARKS.md, run AO). The first
 * writer to open an archive after this migration reads its blocks' keys into memory, and its worker
 * writes them to the file (main/dag/identity-index.ts, WORKER_AFTER).
 */
export const version = 15;

export const sql = `
DROP INDEX blocks_identity;
`;
