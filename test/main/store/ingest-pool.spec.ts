import { createHash } from 'node:crypto';
import {
  chmodSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import {
  Codec,
  chunkBoundaries,
  createChunkStore,
  createIngestPool,
  decodeChunk,
  type ChunkerParams,
  type IngestedChunk,
  type IngestPool,
  type IngestSink,
  type NewChunk,
} from '../../../main/store/index.js';
import { ingestWorkerUrl, prestartIngestWorker, takePrestarted } from '../../../main/store/prestart.js';
import { newEnv } from './chunk-store-compliance.js';
import { lengthsOf, randomBytesSeeded, textBytes } from './fixtures.js';

const P: ChunkerParams = { min: 4096, avg: 16384, max: 65536 };
const sha = (b: Uint8Array): Buffer => createHash('sha256').update(b).digest();

/** Mixed content: compressible text, random bytes, and a repeated block. */
function sample(n: number, seed: number): Buffer {
  const q = Math.floor(n / 4);
  const rep = randomBytesSeeded(q / 2, seed + 2);
  return Buffer.concat([textBytes(q, seed), randomBytesSeeded(q, seed + 1), rep, rep, textBytes(n - 3 * q, seed + 3)]);
}

/**
 * The chunks with copies of their bytes, as a chunk store keeps them: the views a batch comes with
 * are of a buffer the worker gets back once onBatch is done with it.
 */
const kept = (b: IngestedChunk[]): IngestedChunk[] =>
  b.map((c) => (c.encoded ? { ...c, encoded: { codec: c.encoded.codec, data: Buffer.from(c.encoded.data) } } : c));

async function collect(run: (onBatch: (b: IngestedChunk[]) => void) => Promise<{ size: number }>) {
  const chunks: IngestedChunk[] = [];
  let batches = 0;
  const { size } = await run((b) => {
    batches++;
    chunks.push(...kept(b));
  });
  return { size, chunks, batches };
}

/** Every chunk matches one-shot chunking of `data`: lengths, ids, and (when sent) bytes. */
function expectChunksOf(data: Buffer, chunks: IngestedChunk[]): void {
  const cuts = chunkBoundaries(data, P);
  expect(chunks.map((c) => c.rawLength)).toEqual(lengthsOf(cuts));
  let at = 0;
  for (const c of chunks) {
    const raw = data.subarray(at, at + c.rawLength);
    expect(c.id.equals(sha(raw))).toBe(true);
    if (c.encoded) expect(decodeChunk(c.encoded.codec, c.encoded.data, c.rawLength).equals(raw)).toBe(true);
    at += c.rawLength;
  }
}

const never = <T>(): Promise<T> => new Promise<T>(() => {});

describe('ingest pool', () => {
  // Shared by every test (tempDir() would remove it after the first one).
  const dir = mkdtempSync(join(tmpdir(), 'pakit-ingest-'));
  const pools: IngestPool[] = [];
  const pool = (init: Partial<Parameters<typeof createIngestPool>[0]> = {}): IngestPool => {
    const p = createIngestPool({ params: P, zstdLevel: 3, workers: 2, ...init });
    pools.push(p);
    return p;
  };
  afterAll(async () => {
    await Promise.all(pools.map((p) => p.close()));
    rmSync(dir, { recursive: true, force: true });
  });
  const file = (name: string, data: Buffer): string => {
    const path = join(dir, name);
    writeFileSync(path, data);
    return path;
  };
  const big = sample(6 * 2 ** 20, 1);
  const bigFile = file('big.bin', big);
  // Larger than the worker's window of unacknowledged batches: it has to wait for the main thread.
  const largeFile = file('large.bin', sample(24 * 2 ** 20, 2));

  it('runs the compiled worker from dist/ when loaded from TypeScript source', () => {
    expect(ingestWorkerUrl('file:///r/main/store/ingest-pool.ts').href).toBe(
      'file:///r/dist/main/store/ingest-worker.js',
    );
    expect(ingestWorkerUrl('file:///r/dist/main/store/ingest-pool.js').href).toBe(
      'file:///r/dist/main/store/ingest-worker.js',
    );
  });

  it('ingests a file into the same chunks as one-shot chunking, compressed where it pays', async () => {
    const p = pool();
    const { size, chunks, batches } = await collect((cb) => p.ingestFile(bigFile, cb));
    expect(size).toBe(big.length);
    expectChunksOf(big, chunks);
    expect(chunks.every((c) => c.encoded)).toBe(true);
    const codecs = new Set(chunks.map((c) => c.encoded!.codec));
    expect(codecs).toEqual(new Set([Codec.Raw, Codec.Zstd]));
    expect(batches).toBeGreaterThan(1);
    // Keeping an id (an object's chunk list does) must not keep a batch's data alive.
    for (const c of chunks) {
      expect(c.id.buffer).not.toBe(c.encoded!.data.buffer);
      expect(c.id.buffer.byteLength).toBeLessThan(4096);
    }
  });

  it('gives each batch’s buffer back to its worker once onBatch is done: views kept past it are empty', async () => {
    const p = pool({ workers: 1 });
    const views: Buffer[] = [];
    let during = 0;
    await p.ingestFile(bigFile, (b) => {
      for (const c of b) {
        if (!c.encoded) continue;
        during += c.encoded.data.length;
        views.push(c.encoded.data);
      }
    });
    expect(during).toBeGreaterThan(big.length / 2);
    expect(views.every((v) => v.length === 0)).toBe(true);
    // The next file's batches are encoded into the buffers handed back, and come out whole.
    const again = await collect((cb) => p.ingestFile(bigFile, cb));
    expectChunksOf(big, again.chunks);
    expect(again.chunks.every((c) => c.encoded && c.encoded.data.length > 0)).toBe(true);
  });

  it('takes a prestarted worker for its first, which works with the settings the pool sends it', async () => {
    prestartIngestWorker();
    const p = pool({ workers: 1 });
    const { size, chunks } = await collect((cb) => p.ingestFile(bigFile, cb));
    expect(takePrestarted()).toBeUndefined(); // the pool has it
    expect(size).toBe(big.length);
    expectChunksOf(big, chunks); // the pool's chunking parameters reached it
  });

  it('a worker started without settings refuses anything else as its first message', async () => {
    const w = new Worker(ingestWorkerUrl());
    const failed = new Promise<Error>((resolve) => w.once('error', resolve));
    w.postMessage([{ t: 'file', job: 1, path: bigFile }]);
    expect((await failed).message).toMatch(/started without settings got file first/);
    await w.terminate();
  });

  it('sends chunks the archive already holds without their bytes', async () => {
    const env = newEnv();
    const store = createChunkStore('pack', { db: env.db, dir: env.dir });
    const first = file('first.bin', big.subarray(0, 3 * 2 ** 20));
    const p = pool({ dbFile: env.dbFile });
    const a = await collect((cb) => p.ingestFile(first, cb));
    for (const c of a.chunks) store.put(c as NewChunk);
    store.sync();
    env.db.transaction(() => store.persist())();

    const b = await collect((cb) => p.ingestFile(bigFile, cb));
    expectChunksOf(big, b.chunks);
    const known = new Set(a.chunks.map((c) => c.id.toString('hex')));
    // Chunks of the first file come back bare (except the one cut short at its end); the rest carry bytes.
    const bare = b.chunks.filter((c) => !c.encoded);
    expect(bare.length).toBeGreaterThanOrEqual(a.chunks.length - 1);
    expect(bare.every((c) => known.has(c.id.toString('hex')))).toBe(true);
    expect(b.chunks.filter((c) => !known.has(c.id.toString('hex'))).every((c) => c.encoded)).toBe(true);
    store.close();
  });

  it('reports the file’s stat as it was opened, before the first read', async () => {
    const p = pool({ workers: 1 });
    const f = file('stat.bin', big.subarray(0, 300_000));
    const st = lstatSync(f, { bigint: true });
    const r = await p.ingestFile(f, () => {});
    expect(r.size).toBe(300_000);
    // What a walk that did not stat the file records.
    expect(r.stat).toEqual({ size: 300_000n, mtimeNs: st.mtimeNs, ino: st.ino, mode: st.mode });
    // Streams have no file to stat.
    const s = await p.ingestStream(
      (async function* () {
        yield big.subarray(0, 1000);
      })(),
      () => {},
    );
    expect(s).toEqual({ size: 1000 });
  });

  it('with a shared commit counter, sees chunks committed since its last snapshot', async () => {
    const env = newEnv();
    const store = createChunkStore('pack', { db: env.db, dir: env.dir });
    const commits = new Int32Array(new SharedArrayBuffer(4));
    const p = pool({ dbFile: env.dbFile, workers: 1, commits, snapshotMaxAgeMs: 0 });
    // The worker takes its read snapshot during this ingest, before anything is committed.
    const a = await collect((cb) => p.ingestFile(file('a.bin', big.subarray(0, 2 ** 20)), cb));
    expect(a.chunks.every((c) => c.encoded)).toBe(true);
    for (const c of a.chunks) store.put(c as NewChunk);
    store.sync();
    env.db.transaction(() => store.persist())();
    Atomics.add(commits, 0, 1);
    const b = await collect((cb) => p.ingestFile(file('b.bin', big.subarray(0, 2 ** 20)), cb));
    expect(b.chunks.length).toBe(a.chunks.length);
    expect(b.chunks.every((c) => !c.encoded)).toBe(true);
    store.close();
  });

  it('refuses a negative or non-finite snapshot age, idle delay or retirement delay, naming it', () => {
    for (const [key, ms] of [
      ['snapshotMaxAgeMs', -1],
      ['snapshotIdleMs', Number.NaN],
      ['snapshotMaxAgeMs', Infinity],
      ['idleRetireMs', -5],
    ] as const)
      expect(() => createIngestPool({ params: P, zstdLevel: 3, [key]: ms })).toThrow(
        expect.objectContaining({ name: 'RangeError', message: expect.stringContaining(`${key} ${ms}`) }),
      );
  });

  it('keeps a snapshot younger than its maximum age across commits, then renews it', async () => {
    const env = newEnv();
    const store = createChunkStore('pack', { db: env.db, dir: env.dir });
    const commits = new Int32Array(new SharedArrayBuffer(4));
    // Never released as idle here, so only the age can renew it.
    const p = pool({ dbFile: env.dbFile, workers: 1, commits, snapshotMaxAgeMs: 3_000, snapshotIdleMs: 60_000 });
    const a = await collect((cb) => p.ingestFile(file('age-a.bin', big.subarray(0, 2 ** 20)), cb));
    const taken = Date.now();
    for (const c of a.chunks) store.put(c as NewChunk);
    store.sync();
    env.db.transaction(() => store.persist())();
    Atomics.add(commits, 0, 1);
    // The counter moved, but the snapshot is young: the committed chunks are not seen yet, so they
    // come back compressed (the store keeps the copy it has).
    const b = await collect((cb) => p.ingestFile(file('age-b.bin', big.subarray(0, 2 ** 20)), cb));
    expect(Date.now() - taken).toBeLessThan(3_000);
    expect(b.chunks.length).toBe(a.chunks.length);
    expect(b.chunks.every((c) => c.encoded)).toBe(true);
    // Past its age, the next lookup renews it and sees them.
    await new Promise((r) => setTimeout(r, 3_000 - (Date.now() - taken) + 100));
    const c = await collect((cb) => p.ingestFile(file('age-c.bin', big.subarray(0, 2 ** 20)), cb));
    expect(c.chunks.length).toBe(a.chunks.length);
    expect(c.chunks.every((x) => !x.encoded)).toBe(true);
    store.close();
  });

  it('ends its read snapshot once lookups stop, so a checkpoint can copy the whole WAL', async () => {
    const env = newEnv();
    const store = createChunkStore('pack', { db: env.db, dir: env.dir });
    const commits = new Int32Array(new SharedArrayBuffer(4));
    // Released 300 ms after the last lookup (20 by default): long enough for the commit below.
    const p = pool({ dbFile: env.dbFile, workers: 1, commits, snapshotIdleMs: 300 });
    // The worker's lookups during this ingest take a snapshot of the archive as it is now.
    const a = await collect((cb) => p.ingestFile(file('snap-a.bin', big.subarray(0, 2 ** 20)), cb));
    for (const c of a.chunks) store.put(c as NewChunk);
    store.sync();
    env.db.transaction(() => store.persist())();
    // Frames committed after the worker's snapshot cannot be checkpointed while it lasts...
    const [held] = env.db.pragma('wal_checkpoint(PASSIVE)') as { log: number; checkpointed: number }[];
    expect(held!.checkpointed).toBeLessThan(held!.log);
    // ...and can once the worker has been idle for its release delay. Polled, with a
    // deadline far beyond it, so a loaded machine cannot fail the test; a snapshot never released
    // would keep the last frames back for good.
    let freed = held!;
    for (const deadline = Date.now() + 10_000; Date.now() < deadline;) {
      await new Promise((r) => setTimeout(r, 100));
      [freed] = env.db.pragma('wal_checkpoint(PASSIVE)') as { log: number; checkpointed: number }[];
      if (freed.checkpointed === freed.log) break;
    }
    expect(freed.checkpointed).toBe(freed.log);
    store.close();
  });

  it('rejects a missing file, a directory, a FIFO and a symlink, naming each, then keeps working', async () => {
    const p = pool({ workers: 1 });
    await expect(p.ingestFile(join(dir, 'nope.bin'), () => {})).rejects.toMatchObject({
      code: 'ENOENT',
      syscall: 'open',
    });
    mkdirSync(join(dir, 'a-dir'), { recursive: true });
    await expect(p.ingestFile(join(dir, 'a-dir'), () => {})).rejects.toMatchObject({
      code: 'ESPECIAL',
      message: expect.stringContaining('a-dir is not a regular file'),
    });
    // A FIFO where a file was expected: opened without blocking, refused, the worker not stuck.
    const fifo = join(dir, 'a-fifo');
    execFileSync('mkfifo', [fifo]);
    await expect(p.ingestFile(fifo, () => {})).rejects.toMatchObject({ code: 'ESPECIAL' });
    // A symlink is never followed (the walk stores links as links).
    const link = join(dir, 'a-link');
    symlinkSync(bigFile, link);
    await expect(p.ingestFile(link, () => {})).rejects.toMatchObject({ code: 'ELOOP' });
    const ok = await collect((cb) => p.ingestFile(bigFile, cb));
    expect(ok.size).toBe(big.length);
  });

  it('rejects an unreadable file with EACCES', async (ctx) => {
    const path = file('secret.bin', Buffer.from('secret'));
    chmodSync(path, 0o000);
    let readable = true;
    try {
      readFileSync(path);
    } catch {
      readable = false;
    }
    // root (CAP_DAC_OVERRIDE) reads anything: EACCES cannot happen there.
    if (readable) ctx.skip();
    const p = pool({ workers: 1 });
    await expect(p.ingestFile(path, () => {})).rejects.toMatchObject({ code: 'EACCES' });
    expect((await collect((cb) => p.ingestFile(bigFile, cb))).size).toBe(big.length);
  });

  it('ingests an empty file as zero chunks', async () => {
    const p = pool();
    const r = await collect((cb) => p.ingestFile(file('empty.bin', Buffer.alloc(0)), cb));
    expect(r).toEqual({ size: 0, chunks: [], batches: 0 });
  });

  it('ingests a stream pushed in pieces of any size into the same chunks', async () => {
    const p = pool();
    async function* pieces() {
      let at = 0;
      let n = 1;
      while (at < big.length) {
        n = (n * 7919 + 13) % 3_000_000; // sizes from a few bytes to ~3 MB
        yield big.subarray(at, at + n);
        at += n;
      }
    }
    const r = await collect((cb) => p.ingestStream(pieces(), cb));
    expect(r.size).toBe(big.length);
    expectChunksOf(big, r.chunks);
    const empty = await collect((cb) => p.ingestStream((async function* () {})(), cb));
    expect(empty).toEqual({ size: 0, chunks: [], batches: 0 });
  });

  it('ingests several files at once, queueing beyond the pool size', async () => {
    const p = pool({ workers: 2 });
    const datas = [0, 1, 2, 3, 4].map((i) => sample(1_000_000 + i * 300_000, 10 + i));
    const paths = datas.map((d, i) => file(`many-${i}.bin`, d));
    const results = await Promise.all(paths.map((path) => collect((cb) => p.ingestFile(path, cb))));
    results.forEach((r, i) => {
      expect(r.size).toBe(datas[i]!.length);
      expectChunksOf(datas[i]!, r.chunks);
    });
  });

  it('stops when aborted, delivering nothing more, and the pool stays usable', async () => {
    const p = pool({ workers: 1 });
    const ac = new AbortController();
    let calls = 0;
    const run = p.ingestFile(
      largeFile,
      async () => {
        calls++;
        ac.abort();
        await new Promise((r) => setTimeout(r, 50));
      },
      ac.signal,
    );
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    await new Promise((r) => setTimeout(r, 100));
    expect(calls).toBe(1);
    await expect(p.ingestFile(bigFile, () => {}, AbortSignal.abort())).rejects.toMatchObject({ name: 'AbortError' });
    expect((await collect((cb) => p.ingestFile(bigFile, cb))).size).toBe(big.length);
  });

  it('aborts a job waiting behind another without disturbing it', async () => {
    const p = pool({ workers: 1 });
    const ac = new AbortController();
    let secondCalls = 0;
    const first = collect((cb) =>
      p.ingestFile(largeFile, async (b) => {
        cb(b);
        await new Promise((r) => setTimeout(r, 5));
      }),
    );
    const second = p.ingestFile(bigFile, () => void secondCalls++, ac.signal);
    const third = collect((cb) => p.ingestFile(bigFile, cb));
    await new Promise((r) => setTimeout(r, 20));
    ac.abort();
    await expect(second).rejects.toMatchObject({ name: 'AbortError' });
    const [a, c] = await Promise.all([first, third]);
    expect(a.size).toBe(24 * 2 ** 20);
    expectChunksOf(big, c.chunks);
    expect(secondCalls).toBe(0);
  });

  it('tells a sink, not a promise: its batches, then one end; a cancelled file fails with the reason given', async () => {
    const p = pool({ workers: 1 });
    type Told = { chunks: IngestedChunk[]; ends: string[]; size?: number; stat?: unknown; error?: unknown };
    const sink = (): Told & IngestSink => {
      const t: Told = { chunks: [], ends: [] };
      return Object.assign(t, {
        onBatch: (b: IngestedChunk[]) => void t.chunks.push(...kept(b)),
        ingested: (size: number, stat: unknown) => {
          t.ends.push('ingested');
          Object.assign(t, { size, stat });
        },
        failed: (e: unknown) => {
          t.ends.push('failed');
          t.error = e;
        },
      });
    };
    const [first, second, third] = [sink(), sink(), sink()];
    p.startFile(largeFile, first); // holds the only worker
    const job = p.startFile(bigFile, second); // waits behind it
    p.startFile(join(dir, 'no-such-file'), third);
    expect([first.ends, second.ends, third.ends]).toEqual([[], [], []]); // never during the call
    p.cancel(job, new Error('stopped by the caller'));
    expect(second.ends).toEqual(['failed']);
    expect((second.error as Error).message).toBe('stopped by the caller');
    await vi.waitFor(() => expect(third.ends).toEqual(['failed']), { timeout: 10_000 });
    expect(third.error).toMatchObject({ code: 'ENOENT' });
    expect(first.ends).toEqual(['ingested']);
    expect(first.size).toBe(24 * 2 ** 20);
    expect(first.stat).toMatchObject({ size: BigInt(24 * 2 ** 20), ino: lstatSync(largeFile, { bigint: true }).ino });
    p.cancel(job, new Error('again')); // ended: nothing more is told
    expect(second.ends).toEqual(['failed']);
    const fourth = sink();
    p.startFile(bigFile, fourth);
    await vi.waitFor(() => expect(fourth.ends).toEqual(['ingested']), { timeout: 10_000 });
    expectChunksOf(big, fourth.chunks);
    expect(second.chunks).toEqual([]);
  });

  it('hands batches over in order when some onBatch calls wait and others do not, and ends after the last', async () => {
    const p = pool({ workers: 1 });
    const chunks: IngestedChunk[] = [];
    let calls = 0;
    let busy = false;
    const r = await p.ingestFile(bigFile, (b) => {
      expect(busy).toBe(false); // never while an earlier batch is still being handled
      const slow = calls++ % 2 === 0;
      if (!slow) {
        chunks.push(...kept(b));
        return;
      }
      busy = true;
      return new Promise<void>((resolve) =>
        setTimeout(() => {
          chunks.push(...kept(b)); // still whole: the buffer goes back once the promise settles
          busy = false;
          resolve();
        }, 5),
      );
    });
    expect(calls).toBeGreaterThan(2);
    expect(r.size).toBe(big.length);
    expect(busy).toBe(false);
    expectChunksOf(big, chunks);
    // A rejected promise from onBatch fails the job.
    const boom = new Error('later');
    await expect(p.ingestFile(bigFile, () => Promise.reject(boom))).rejects.toBe(boom);
  });

  it('rejects with the error onBatch throws', async () => {
    const p = pool({ workers: 1 });
    const boom = Object.assign(new Error('disk full'), { code: 'ENOSPC' });
    await expect(
      p.ingestFile(bigFile, () => {
        throw boom;
      }),
    ).rejects.toBe(boom);
    expect((await collect((cb) => p.ingestFile(bigFile, cb))).size).toBe(big.length);
  });

  it('does not run ahead of unacknowledged batches (bounded memory)', async () => {
    const p = pool({ workers: 1 });
    let pulled = 0;
    const ac = new AbortController();
    async function* endless() {
      const piece = randomBytesSeeded(64 * 1024, 5);
      for (;;) {
        pulled += piece.length;
        yield piece;
      }
    }
    let batches = 0;
    const run = p.ingestStream(
      endless(),
      () => {
        batches++;
        return never<void>(); // the consumer is stuck: nothing is ever acknowledged
      },
      ac.signal,
    );
    while (batches === 0) await new Promise((r) => setTimeout(r, 20));
    let last = -1;
    while (pulled !== last) {
      last = pulled;
      await new Promise((r) => setTimeout(r, 200));
    }
    // Stream window (8 MiB) + worker read buffer (4 MiB + max) + unacknowledged batches (8 MiB).
    expect(pulled).toBeLessThan(24 * 2 ** 20);
    expect(batches).toBe(1);
    ac.abort();
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('replaces a crashed worker', async () => {
    const p = pool({ workers: 1 });
    const run = p.ingestFile(largeFile, async () => {
      (p as unknown as { crashWorkerForTest(): void }).crashWorkerForTest();
      await new Promise((r) => setTimeout(r, 20));
    });
    await expect(run).rejects.toMatchObject({ name: 'IngestWorkerCrashedError', code: 'ERR_INGEST_WORKER_CRASHED' });
    const r = await collect((cb) => p.ingestFile(bigFile, cb));
    expectChunksOf(big, r.chunks);
  });

  it.runIf(process.platform === 'linux')('runs its workers at low priority unless told otherwise', async () => {
    /** Threads of this process whose nice value is 10. */
    const niceThreads = (): number =>
      readdirSync('/proc/self/task').filter((tid) => {
        try {
          const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
          return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16] === '10';
        } catch {
          return false; // the thread ended meanwhile
        }
      }).length;
    const before = niceThreads();
    const normal = pool({ workers: 1, lowPriority: false });
    await normal.ingestFile(bigFile, () => {});
    expect(niceThreads()).toBe(before);
    const low = pool({ workers: 1 });
    await low.ingestFile(bigFile, () => {});
    expect(niceThreads()).toBe(before + 1);
  });

  /** Resolves once `cond` holds, checking every 10 ms; fails the test after `ms`. */
  async function until(cond: () => boolean, ms = 5_000): Promise<void> {
    for (const end = Date.now() + ms; !cond();) {
      if (Date.now() > end) throw new Error(`condition not met within ${ms} ms`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  it('stops a worker left without work for idleRetireMs, and starts another for the next input', async () => {
    const p = pool({ workers: 2, idleRetireMs: 100 });
    expect(p.running).toBe(0);
    await p.ingestFile(bigFile, () => {});
    expect(p.running).toBe(1);
    await until(() => p.running === 0);
    const r = await collect((cb) => p.ingestFile(bigFile, cb));
    expectChunksOf(big, r.chunks);
    expect(p.running).toBe(1);
    // The default keeps it for 30 s.
    const q = pool({ workers: 1 });
    await q.ingestFile(bigFile, () => {});
    await new Promise((r) => setTimeout(r, 300));
    expect(q.running).toBe(1);
  });

  it('stops a worker holding groups only once every chunk waiting on them has its group', async () => {
    const groups: number[] = [];
    const p = pool({
      workers: 1,
      idleRetireMs: 1,
      groupBytes: 256 * 1024,
      onGroup: (g) => groups.push(g.members.length),
    });
    for (let round = 0; round < 3; round++) {
      // Small files: each one chunk, grouped; the group is sealed once the worker has been idle.
      const chunks: IngestedChunk[] = [];
      await Promise.all(
        [0, 1, 2, 3].map((i) =>
          p.ingestFile(file(`small-${round}-${i}.txt`, textBytes(3000 + i, 100 * round + i)), (b) => {
            chunks.push(...b);
          }),
        ),
      );
      expect(chunks.every((c) => c.grouped)).toBe(true);
      await Promise.all(chunks.map((c) => c.grouped));
      await until(() => p.running === 0);
    }
    expect(groups.reduce((a, b) => a + b, 0)).toBe(12);
  });

  it('never stops a worker that has a job, however long the job takes', async () => {
    const p = pool({ workers: 1, idleRetireMs: 20 });
    await p.ingestFile(bigFile, () => {});
    await new Promise((r) => setTimeout(r, 10));
    // A stream fed slowly, right after the worker sat idle: it waits for input far longer than 20 ms.
    async function* slowly() {
      for (let i = 0; i < 6; i++) {
        await new Promise((r) => setTimeout(r, 60));
        yield big.subarray(i * 2 ** 20, (i + 1) * 2 ** 20);
      }
    }
    const r = await collect((cb) => p.ingestStream(slowly(), cb));
    expect(r.size).toBe(big.length);
    expectChunksOf(big, r.chunks);
  });

  it('rejects work after close', async () => {
    const p = pool();
    const running = p.ingestFile(bigFile, () => never<void>());
    const rejected = expect(running).rejects.toMatchObject({ name: 'IngestPoolClosedError' });
    await new Promise((r) => setTimeout(r, 50));
    await p.close();
    await rejected;
    await expect(p.ingestFile(bigFile, () => {})).rejects.toMatchObject({ code: 'ERR_INGEST_POOL_CLOSED' });
  });
});
