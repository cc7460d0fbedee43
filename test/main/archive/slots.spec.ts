import { describe, expect, it } from 'vitest';
import { IngestSlots } from '../../../main/archive/slots.js';

describe('ingest slots', () => {
  it('hands out `size` slots at once, makes the next wait for a release, and counts a release once', async () => {
    const slots = new IngestSlots(2);
    const a = await slots.take();
    await slots.take();
    let third = false;
    const waiting = slots.take().then((r) => {
      third = true;
      return r;
    });
    await new Promise((r) => setImmediate(r));
    expect(third).toBe(false);
    a();
    a(); // a second call gives nothing back
    const c = await waiting;
    expect(third).toBe(true);
    let fourth = false;
    void slots.take().then(() => (fourth = true));
    await new Promise((r) => setImmediate(r));
    expect(fourth).toBe(false); // still full: a's slot went to the third, once
    c();
    await new Promise((r) => setImmediate(r));
    expect(fourth).toBe(true);
  });

  it('takeNow takes a free slot at once or reports none; takeWhenFree waits for a give', async () => {
    const slots = new IngestSlots(1);
    expect(slots.takeNow()).toBe(true);
    expect(slots.takeNow()).toBe(false);
    let taken = false;
    const waiting = slots.takeWhenFree().then(() => (taken = true));
    await new Promise((r) => setImmediate(r));
    expect(taken).toBe(false);
    slots.give();
    await waiting;
    expect(slots.takeNow()).toBe(false); // the waiter has it
    slots.give();
    expect(slots.takeNow()).toBe(true);
  });
});
