/**
 * Schema version 6: small chunks compressed together. Chunks under 64 KiB (small files, and the
 * last piece of larger ones) compress poorly one by one; they are gathered into groups of about
 * 1 MiB of raw bytes, each group one zstd frame in a pack. A grouped chunk's row has codec 2, its
 * `pack` and `offset` name the frame, and these columns say how long the frame is, how many bytes
 * it decompresses to, and where in them the chunk's raw bytes start. `stored_len` is its share of
 * the frame (the shares of a group's chunks add up to the frame's length). NULL for other chunks.
 */
export const version = 6;

export const sql = `
ALTER TABLE chunks ADD COLUMN frame_len INTEGER;
ALTER TABLE chunks ADD COLUMN frame_raw INTEGER;
ALTER TABLE chunks ADD COLUMN frame_at INTEGER;
`;
