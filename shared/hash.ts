import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';

/**
 * A SHA-256 implementation. shared/ defaults to @noble/hashes (runs in the browser); main/ passes
 * node:crypto's, which is several times faster for bulk work. Both must give identical digests, and
 * return a digest of their own: callers reuse the input buffer as soon as the call returns
 * (shared/merkle.ts nodeHash).
 */
export type Sha256 = (data: Uint8Array) => Uint8Array;

export const sha256: Sha256 = (data) => nobleSha256(data);
