import type Database from 'better-sqlite3';

/**
 * Settings every connection to an archive database gets, the writer's (openDb) and the ingest
 * workers' read-only ones. A module of its own, without the migrations, so a worker can load it
 * without their module graph.
 */
export function tuneConnection(db: Database.Database): void {
  db.pragma('busy_timeout = 5000');
  // Index lookups by hash are random reads: a larger page cache and memory-mapped reads keep them
  // off the read() syscall path as the archive grows (measured in bench/dag-million.ts).
  db.pragma('cache_size = -131072');
  // Statement journals (savepoints, multi-row inserts) in memory: on disk they were the largest
  // source of write syscalls during ingest (strace: 366k pwrites for a 35k-file store).
  db.pragma('temp_store = MEMORY');
  db.pragma('mmap_size = 1073741824');
}
