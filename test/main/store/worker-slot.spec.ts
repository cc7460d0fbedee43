import { once } from 'node:events';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
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

let ports: MessagePort[] = [];
afterEach(() => {
  for (const p of ports) p.close();
  ports = [];
});

/** A slot on `worker`, and the worker's end of its return port. */
function slotOn(worker: Worker): { slot: WorkerSlot<number>; theirs: MessagePort } {
  const { port1, port2 } = new MessageChannel();
  ports.push(port1, port2);
  return { slot: new WorkerSlot<number>(worker, port1), theirs: port2 };
}

describe('WorkerSlot', () => {
  it('sends what is posted in one tick as one message, in order', async () => {
    const worker = echoWorker();
    const { slot } = slotOn(worker);
    const replies: string[][] = [];
    worker.on('message', (kinds: string[]) => replies.push(kinds));
    slot.post({ t: 'file', job: 1, path: '/a' });
    slot.post({ t: 'ack', job: 1, bytes: 5 });
    slot.post({ t: 'idle?' });
    await once(worker, 'message');
    await new Promise((r) => setTimeout(r, 50));
    expect(replies).toEqual([['file', 'ack', 'idle?']]);
  });

  it('sends nothing once it has left the pool', async () => {
    const worker = echoWorker();
    const gone = slotOn(worker).slot;
    const live = slotOn(worker).slot;
    gone.post({ t: 'idle?' });
    gone.giveBack(new ArrayBuffer(8));
    gone.left = true;
    live.post({ t: 'ack', job: 1, bytes: 1 });
    const [kinds] = (await once(worker, 'message')) as [string[]];
    // Messages on one port arrive in order: had the first slot sent, its message would be first.
    expect(kinds).toEqual(['ack']);
  });

  it("gives buffers back on the return port, a tick's worth in one message, transferred", async () => {
    const worker = echoWorker();
    const { slot, theirs } = slotOn(worker);
    const got: ArrayBuffer[][] = [];
    theirs.on('message', (bufs: ArrayBuffer[]) => got.push(bufs));
    const a = new ArrayBuffer(64);
    const b = new ArrayBuffer(128);
    slot.giveBack(a);
    slot.giveBack(b);
    await expect.poll(() => got.length).toBe(1);
    expect(got[0]!.map((x) => x.byteLength)).toEqual([64, 128]);
    expect(a.byteLength).toBe(0); // transferred, not copied
    expect(b.byteLength).toBe(0);
    slot.giveBack(new ArrayBuffer(32)); // a later tick: a message of its own
    await expect.poll(() => got.length).toBe(2);
    expect(got[1]!.map((x) => x.byteLength)).toEqual([32]);
  });

  it('tells the chunks of a group when it is stored, fails them when it is not', async () => {
    const { slot } = slotOn(echoWorker());
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
    const { slot } = slotOn(echoWorker());
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
