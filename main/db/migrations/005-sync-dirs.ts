/**
 * Schema version 5: the sync folder as a tree. An index of `sync_latest` by each path's directory
 * (`rtrim(path, replace(path, '/', ''))` is the path up to and including its last '/', '' at the
 * root), so a directory's own files are one index range and its subdirectories are found by
 * skipping from one to the next (main/sync/folder-tree.ts), without reading what lies beneath.
 */
export const version = 5;

export const sql = `
CREATE INDEX sync_latest_by_dir ON sync_latest (folder, rtrim(path, replace(path, '/', '')), path);
`;
