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

  it('asks refill for buffers come back but not yet given when it has none of the size, before making one', () => {
    const pool = new BufferPool(2);
    const back = new ArrayBuffer(256);
    let asked = 0;
    pool.refill = () => {
      asked++;
      pool.give(back);
    };
    pool.give(new ArrayBuffer(128));
    expect(pool.take(128).byteLength).toBe(128); // one was free: refill not asked
    expect(asked).toBe(0);
    expect(pool.take(256)).toBe(back);
    expect(asked).toBe(1);
    pool.refill = () => asked++; // nothing came back: a new one
    const made = pool.take(256);
    expect(made).not.toBe(back);
    expect(made.byteLength).toBe(256);
    expect(asked).toBe(2);
  });
});
