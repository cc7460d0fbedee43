import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sha256 } from '../../../shared/hash.js';
import { nodeSha256, sha256Digest } from '../../../main/util/sha256.js';

describe('sha256Digest', () => {
  // Inputs whose digests hold bytes of every range: a text round trip other than latin1 would
  // mangle those ≥ 0x80.
  const inputs = [new Uint8Array(0), Uint8Array.of(0), randomBytes(33), randomBytes(65), randomBytes(1 << 20)];

  it('gives the SHA-256 digest as 32 bytes, equal to createHash and to @noble/hashes', () => {
    for (const input of inputs) {
      const want = createHash('sha256').update(input).digest();
      const got = sha256Digest(input);
      expect(Buffer.isBuffer(got)).toBe(true);
      expect(got.length).toBe(32);
      expect(got.equals(want)).toBe(true);
      expect(Buffer.from(nodeSha256(input)).equals(want)).toBe(true);
      expect(Buffer.from(sha256(input)).equals(want)).toBe(true);
    }
  });

  it('hashes a string as its UTF-8 bytes', () => {
    const s = 'påth/ünïcode ✓';
    expect(sha256Digest(s).equals(createHash('sha256').update(Buffer.from(s, 'utf8')).digest())).toBe(true);
  });

  it('keeps each digest intact when many share the pool', () => {
    const digests = Array.from({ length: 1000 }, (_, i) => sha256Digest(Buffer.from(String(i))));
    digests.forEach((d, i) => expect(d.equals(createHash('sha256').update(String(i)).digest())).toBe(true));
    expect(new Set(digests.map((d) => d.toString('hex'))).size).toBe(1000);
  });
});
