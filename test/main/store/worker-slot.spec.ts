import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { WorkerSlot } from '../../../main/store/worker-slot.js';

// A real thread that answers each postMessage with the kinds of the messages it carried.
const ECHO = `const { parentPort } = require('node:worker_threads');
parentPort.on('message', (ms) => parentPort.postMessage(ms.map((m) => m.t)));`;

let workers: Worker[] = [];
afterEach(async () => {
  await Promise.all(workers.map((w) => w.terminate()));
  workers = [];
});

function echoWorker(): Worker {
  const w = new Worker(ECHO, { eval: true });
  workers.push(w);
  return w;
}

describe('WorkerSlot', () => {
  it('sends what is posted in one tick as one message, in order', async () => {
    const worker = echoWorker();
    const slot = new WorkerSlot<number>(worker);
    const replies: string[][] = [];
    worker.on('message', (kinds: string[]) => replies.push(kinds));
    slot.post({ t: 'file', job: 1, path: '/a' });
    slot.post({ t: 'ack', job: 1, bytes: 5 });
    slot.post({ t: 'idle?' });
    await once(worker, 'message');
    await new Promise((r) => setTimeout(r, 50));
    expect(replies).toEqual([['file', 'ack', 'idle?']]);
  });

  it('sends nothing once it has left the pool, and transfers a given-back buffer', async () => {
    const worker = echoWorker();
    const gone = new WorkerSlot<number>(worker);
    const live = new WorkerSlot<number>(worker);
    gone.post({ t: 'idle?' });
    gone.left = true;
    const buf = new ArrayBuffer(64);
    live.giveBack(buf);
    const [kinds] = (await once(worker, 'message')) as [string[]];
    // Messages on one port arrive in order: had the first slot sent, its message would be first.
    expect(kinds).toEqual(['give-back']);
    expect(buf.byteLength).toBe(0); // transferred, not copied
  });

  it('tells the chunks of a group when it is stored, fails them when it is not', async () => {
    const slot = new WorkerSlot<number>(echoWorker());
    expect(slot.busy).toBe(false);
    let stored = false;
    const first = slot.sealed(0).then(() => (stored = true));
    expect(slot.busy).toBe(true);
    await Promise.resolve();
    expect(stored).toBe(false);
    slot.groupStored(0);
    await first;
    expect(stored).toBe(true);
    expect(slot.busy).toBe(false);
    // A group stored already is settled at once, and so is every earlier token.
    await expect(slot.sealed(0)).resolves.toBeUndefined();

    const failing = slot.sealed(1);
    const err = new Error('disk full');
    slot.groupFailed(1, err);
    await expect(failing).rejects.toBe(err);
    await expect(slot.sealed(1)).resolves.toBeUndefined(); // its token is past: nothing waits on it
  });

  it('fails every chunk waiting on a group that will never come, and any asked for later', async () => {
    const slot = new WorkerSlot<number>(echoWorker());
    slot.groupStored(2);
    const waiting = [slot.sealed(3), slot.sealed(4)];
    const crashed = new Error('ingest worker exited with code 1');
    slot.loseGroups(crashed);
    for (const p of waiting) await expect(p).rejects.toBe(crashed);
    await expect(slot.sealed(5)).rejects.toBe(crashed);
    await expect(slot.sealed(2)).resolves.toBeUndefined(); // stored before it was lost
    expect(slot.busy).toBe(false);
  });
});
