import { createHash } from 'node:crypto';
import type { Sha256 } from '../../shared/hash.js';

/** node:crypto SHA-256 (several times faster than @noble/hashes for bulk work). */
export const nodeSha256: Sha256 = (data) => createHash('sha256').update(data).digest();
