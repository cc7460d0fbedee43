import { hash } from 'node:crypto';
import type { Sha256 } from '../../shared/hash.js';

/**
 * SHA-256 by node:crypto, as a Buffer. The digest comes back as a 'binary' (latin1) string, one
 * character per byte, and is copied into Node's shared small-Buffer pool. Asked for a Buffer
 * instead, node:crypto gives every 32-byte digest its own ArrayBuffer: a malloc, a free on V8's
 * sweeper thread (contending for malloc's lock with the thread that allocates) and garbage-collector
 * bookkeeping. Hashing 150 bytes a million times here: 1.6–2.0 µs per digest as its own Buffer,
 * 0.6 µs this way. A block append hashes two or three times, ingest once per chunk.
 *
 * The result is a view into a shared pool: never transfer its `.buffer` to another thread.
 */
export function sha256Digest(data: Uint8Array | string): Buffer {
  return Buffer.from(hash('sha256', data, 'binary'), 'latin1');
}

/**
 * node:crypto SHA-256 (several times faster than @noble/hashes for bulk work), by the one-shot
 * `crypto.hash`, which skips the Hash object (see sha256Digest).
 */
export const nodeSha256: Sha256 = (data) => sha256Digest(data);

/** The same bytes as a Buffer, without copying (node:crypto's digests already are Buffers). */
export function asBuffer(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}
