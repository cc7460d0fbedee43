/**
 * Schema version 9: identical objects are found through an index of the content root's first
 * 8 bytes rather than of all 32 (the row's whole root is still compared). Content roots are
 * uniformly random, so every block's index entry lands on a random page; a smaller entry means
 * fewer pages for a commit to dirty and write.
 */
export const version = 9;

export const sql = `
DROP INDEX blocks_content;
CREATE INDEX blocks_content ON blocks (substr(content_root, 1, 8));
`;
