import { describe, expect, it } from 'vitest';
import { InOrder } from '../../../main/archive/in-order.js';

describe('in order', () => {
  it('takes results in the order added, as the front settles, skipping undefined ones', async () => {
    const taken: number[] = [];
    const results = new InOrder<number>((v) => taken.push(v));
    let first!: (v: number) => void;
    results.add(new Promise((r) => (first = r)));
    results.add(Promise.resolve(2));
    results.add(Promise.resolve(undefined)); // a problem, told elsewhere
    await new Promise((r) => setImmediate(r));
    results.add(Promise.resolve(4));
    expect(taken).toEqual([]); // all wait for the first
    expect(results.size).toBe(4);
    first(1);
    await results.drain(1);
    expect(taken).toEqual([1, 2]);
    await results.drain(0);
    expect(taken).toEqual([1, 2, 4]);
    expect(results.size).toBe(0);
  });
});
