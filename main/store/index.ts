/**
 * The chunk layer's public surface: chunking, encoding, the two chunk stores and the ingest pool.
 */
import { PackChunkStore } from './pack-chunk-store.js';
import { SqliteChunkStore } from './sqlite-chunk-store.js';
import type { ChunkerParams, ChunkStore, ChunkStoreInit, ChunkStoreKind } from './types.js';

export * from './types.js';
export {
  GearChunker,
  chunkBoundaries,
  describeChunker,
  validateChunkerParams,
  ChunkerParamsError,
  GEAR,
  GEAR_SEED,
} from './gear-chunker.js';
export { ChunkEncoder, decodeChunk, ChunkDecodeError, RAW_THRESHOLD, type EncodedChunk } from './compression.js';
export { DEFAULT_PACK_SIZE_LIMIT } from './pack-chunk-store.js';
export { createIngestPool } from './ingest-pool.js';

/** Opens the chunk store of an archive; `init.db` must be migrated (main/db/database.ts). */
export function createChunkStore(kind: ChunkStoreKind, init: ChunkStoreInit): ChunkStore {
  switch (kind) {
    case 'pack':
      return new PackChunkStore(init);
    case 'sqlite':
      return new SqliteChunkStore(init);
    default: {
      const never: never = kind;
      throw new TypeError(`unknown chunk store kind ${String(never)}`);
    }
  }
}

/*
 * Defaults, chosen by measurement (bench/store-params.ts and bench/store-ingest.ts over 300 MB of
 * /usr/share/doc + /usr/lib/x86_64-linux-gnu + node_modules, 7602 files; numbers in
 * docs/BENCHMARKS.md). Stored bytes after dedup + zstd-3, against borg create --compression zstd,3
 * (2 MiB chunks) on the same files, 83.94 MB: avg 64K 85.25, 128K 84.03, 256K 83.61, 1M 84.50 MB.
 * 256K is the smallest average that stores less than borg (smaller chunks dedup better but compress
 * worse), and still stores 9% less than 2 MiB chunks for a second version with one file in ten edited.
 * At 256K, zstd 1 stores 4% more than borg; zstd 6 saves 3.4% at 40% of level 3's speed (109 vs
 * 274 MB/s per core). Pack files take writes 2.5x faster than inline SQLite (441 vs 178 MB/s of raw
 * input), reads are on par (286 vs 293 MB/s, decode and re-hash included).
 */
export const DEFAULT_CHUNKER: ChunkerParams = { min: 64 * 1024, avg: 256 * 1024, max: 1024 * 1024 };
export const DEFAULT_ZSTD_LEVEL = 3;
export const DEFAULT_CHUNK_STORE: ChunkStoreKind = 'pack';
