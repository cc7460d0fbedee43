import { describe, expect, it } from 'vitest';
import { BufferPool } from '../../../main/store/buffer-pool.js';

describe('buffer pool', () => {
  it('hands back a buffer given to it, of the size asked, and makes a new one otherwise', () => {
    const pool = new BufferPool(2);
    const a = pool.take(1024);
    expect(a.byteLength).toBe(1024);
    pool.give(a);
    expect(pool.take(2048)).not.toBe(a); // another size: a new buffer
    expect(pool.take(1024)).toBe(a);
    expect(pool.take(1024)).not.toBe(a); // given once, taken once
  });

  it('keeps at most `keep` free buffers of a size, and ignores a detached one', () => {
    const pool = new BufferPool(2);
    for (let i = 0; i < 5; i++) pool.give(new ArrayBuffer(64));
    expect(pool.size).toBe(2);
    const gone = new ArrayBuffer(64);
    structuredClone(gone, { transfer: [gone] }); // detached, as after a transfer
    pool.give(gone);
    expect(pool.size).toBe(2);
    pool.give(new ArrayBuffer(32));
    expect(pool.size).toBe(3);
  });
});
