import { hash } from 'node:crypto';
import type { Sha256 } from '../../shared/hash.js';

/**
 * node:crypto SHA-256 (several times faster than @noble/hashes for bulk work). The one-shot
 * `crypto.hash` skips the Hash object: ~2.0 µs instead of ~2.8 µs for a 65-byte input here, and a
 * block append hashes four times.
 */
export const nodeSha256: Sha256 = (data) => hash('sha256', data, 'buffer');

/** The same bytes as a Buffer, without copying (node:crypto's digests already are Buffers). */
export function asBuffer(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}
