import { describe, expect, it } from 'vitest';
import { InOrder, type Ordered } from '../../../main/archive/in-order.js';

const entry = (): Ordered<number> => ({ done: false, value: undefined });

describe('in order', () => {
  it('takes results in the order added, as the front settles, skipping undefined ones', async () => {
    const taken: number[] = [];
    const results = new InOrder<number>((v) => taken.push(v));
    const [a, b, c, d] = [entry(), entry(), entry(), entry()];
    for (const e of [a, b, c]) results.add(e);
    results.settle(b, 2);
    results.settle(c, undefined); // a problem, told elsewhere
    results.add(d);
    results.settle(d, 4);
    expect(taken).toEqual([]); // all wait for the first
    expect(results.size).toBe(4);
    const pending: Ordered<number>[] = [];
    results.forEachPending((e) => pending.push(e));
    expect(pending).toEqual([a]);
    let drained = false;
    const drain = results.drain(1).then(() => (drained = true));
    await new Promise((r) => setImmediate(r));
    expect(drained).toBe(false);
    results.settle(a, 1);
    expect(taken).toEqual([1, 2, 4]);
    await drain;
    expect(results.size).toBe(0);
    results.add({ done: true, value: 5 }); // already done, at the front: taken at once
    results.addPromise(Promise.resolve(6));
    await results.drain(0);
    expect(taken).toEqual([1, 2, 4, 5, 6]);
  });

  it('keeps the order over many entries settled back to front', () => {
    const taken: number[] = [];
    const results = new InOrder<number>((v) => taken.push(v));
    const entries = Array.from({ length: 3000 }, () => entry());
    for (const e of entries) results.add(e);
    for (let i = entries.length - 1; i >= 1000; i--) results.settle(entries[i]!, i);
    expect(taken).toEqual([]);
    for (let i = 0; i < 1000; i++) results.settle(entries[i]!, i);
    expect(taken).toEqual(entries.map((_, i) => i));
    expect(results.size).toBe(0);
  });

  it('fails the drain and later adds with what a taker threw; settle itself does not throw', async () => {
    const results = new InOrder<number>((v) => {
      if (v === 2) throw new Error('taker failed at 2');
    });
    const [a, b] = [entry(), entry()];
    results.add(a);
    results.add(b);
    const drain = results.drain(0);
    results.settle(b, 2);
    expect(() => results.settle(a, 1)).not.toThrow();
    await expect(drain).rejects.toThrow('taker failed at 2');
    await expect(results.drain(0)).rejects.toThrow('taker failed at 2');
    expect(() => results.add(entry())).toThrow('taker failed at 2');
  });
});
