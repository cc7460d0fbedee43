import { setFlagsFromString } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CHUNKER, GearChunker } from '../../../main/store/index.js';
import { primeGearChunker } from '../../../main/store/gear-chunker.js';
import { randomBytesSeeded } from './fixtures.js';

// V8's own hooks (see hidden-classes.spec.ts), compiled after the flag is set. In a file of its
// own: the chunker's other tests run every path of `push` before this one could look.
setFlagsFromString('--allow-natives-syntax');
const native = (body: string) => new Function('f', body) as (f: unknown) => number;
const prepare = native('%PrepareFunctionForOptimization(f)');
const optimizeNext = native('%OptimizeFunctionOnNextCall(f)');
const status = native('return %GetOptimizationStatus(f)');
/** Waits for compiles under way on V8's background threads, so the status below is settled. */
const settle = native('%FinalizeOptimization()');
/** V8's "optimised by TurboFan" bit of %GetOptimizationStatus. */
const TURBOFANNED = 1 << 6;

describe('gear chunker, as V8 compiles it', () => {
  it('once primed, stays optimised from the first small file to the first large one', () => {
    const push = GearChunker.prototype.push;
    primeGearChunker();
    settle(push);
    // An ingest worker's first files: smaller than the minimum chunk, `push` only skips bytes.
    prepare(push);
    const small = randomBytesSeeded(10_000, 1);
    const skipOnly = (): void => {
      const c = new GearChunker(DEFAULT_CHUNKER);
      c.push(small);
      c.finish();
    };
    skipOnly();
    optimizeNext(push);
    skipOnly();
    settle(push);
    expect(status(push) & TURBOFANNED).toBe(TURBOFANNED);
    // Then a large file: cuts by hash before and after `avg`, and at `max`. Without the priming,
    // this ran code never run before, and V8 threw the optimised code away.
    const large = Buffer.concat([randomBytesSeeded(3_000_000, 2), Buffer.alloc(1_200_000)]);
    const c = new GearChunker(DEFAULT_CHUNKER);
    const cuts = [...c.push(large), ...c.finish()];
    const sizes = cuts.map((end, i) => end - (i === 0 ? 0 : cuts[i - 1]!));
    expect(sizes.some((s) => s < DEFAULT_CHUNKER.avg)).toBe(true);
    expect(sizes.some((s) => s > DEFAULT_CHUNKER.avg && s < DEFAULT_CHUNKER.max)).toBe(true);
    expect(sizes).toContain(DEFAULT_CHUNKER.max);
    expect(status(push) & TURBOFANNED).toBe(TURBOFANNED);
  });
});
