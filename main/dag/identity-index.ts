import type Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { Db } from '../db/database.js';
import { storedCompactMeta } from './stored-header.js';
import {
  INDEXED,
  KEY_COLUMNS,
  identityKey,
  metaHash,
  STOP,
  WRITTEN,
  openIdentityFile,
  type IdentityWorkerInit,
  type KeyRow,
} from './identity-file.js';

/**
 * Blocks not yet in the identity file after which its worker starts. Below it, memory holds them
 * (~1 µs an append; a writer that opens reads them in, ~1 µs a block) and no thread is started: a
 * worker from 4,096 on made storing the bench corpus (34,348 files) 5 % slower and its peak RSS
 * 35–40 MB larger, a third thread on two cores that are busy ingesting.
 */
export const WORKER_AFTER = 50_000;
const WORKER_BATCH = 100_000;
const WORKER_PAUSE_MS = 250;
/** The worker is woken once per this many appends (it also looks by itself every second). */
const WAKE_EVERY = 1_024;
const MAX_SLOT = 2 ** 31 - 1;

export interface IdentityIndexInit {
  /** The archive's files and genesis hash; without them every entry stays in memory (tests, genesis). */
  readonly files?: { readonly archive: string; readonly identity: string; readonly genesis: Buffer };
  /** Blocks missing from the file after which its worker starts (default {@link WORKER_AFTER}). */
  readonly workerAfter?: number;
}

/** Worker scripts must be compiled JavaScript; under vitest this module is .ts (see ingest-pool.ts). */
function workerUrl(moduleUrl: string = import.meta.url): URL {
  return moduleUrl.endsWith('.ts')
    ? new URL('../../dist/main/dag/identity-worker.js', moduleUrl)
    : new URL('./identity-worker.js', moduleUrl);
}

/**
 * The memory's key for a block: 30 bits from the root's first 4 bytes and the metadata's hash, a
 * small integer V8 keeps unboxed. A string of the bytes the file keys on cost as much time as the
 * index this replaces saved. Blocks that share a memory key are all candidates (their rows decide),
 * as the file's.
 */
function memoryKey(root: Uint8Array, meta: Uint8Array): number {
  const r = (root[0]! << 24) | (root[1]! << 16) | (root[2]! << 8) | root[3]!;
  return (r ^ metaHash(meta)) >>> 2;
}

/**
 * The writer's view of which blocks may hold an object (see identity-file.ts): the identity file
 * for blocks below its watermark, and in memory the blocks written since (this session's, and any
 * the file had not caught up with when the writer opened). A worker thread moves the watermark,
 * and the entries it passes leave memory. Without a worker (a small archive, or one that failed to
 * start) memory holds every entry past the watermark: slower to open, never wrong.
 */
export class IdentityIndex {
  readonly #init: IdentityIndexInit;
  #file?: Database.Database;
  #byKey?: Database.Statement<[Buffer], number>;
  #worker?: Worker;
  #workerFailed = false;
  #exited?: Promise<void>;
  readonly #slots = new Int32Array(new SharedArrayBuffer(3 * Int32Array.BYTES_PER_ELEMENT));
  /** Blocks below this have their entries in the file. */
  #indexed = 0;
  /** Keys of blocks #indexed, #indexed + 1, … held in memory: #keys[#head] is #indexed's. */
  #keys: number[] = [];
  #head = 0;
  /** A memory key's block, or blocks in seq order when several share it. */
  readonly #seqsByKey = new Map<number, number | number[]>();

  constructor(db: Db, init: IdentityIndexInit = {}) {
    this.#init = init;
    const size = db.prepare('SELECT coalesce(max(seq) + 1, 0) FROM blocks').pluck().get() as number;
    if (init.files && existsSync(init.files.identity)) this.#openFile(size);
    const rows = db
      .prepare<[number], KeyRow>(`SELECT seq, ${KEY_COLUMNS} FROM blocks WHERE seq >= ? ORDER BY seq`)
      .iterate(this.#indexed);
    for (const r of rows) this.#hold(memoryKey(r.root, storedCompactMeta(r.header)));
    this.#startIfBehind();
  }

  /** Blocks held in memory: not in the file as of now. */
  get inMemory(): number {
    this.#catchUp();
    return this.#held;
  }

  get #held(): number {
    return this.#keys.length - this.#head;
  }

  /** The file's watermark as the writer last saw it. */
  get indexed(): number {
    return this.#indexed;
  }

  /** Where entries past the file's watermark go: memory only, to a worker, or memory after a worker failed. */
  get mode(): 'memory' | 'worker' | 'failed' {
    if (this.#workerFailed) return 'failed';
    return this.#worker ? 'worker' : 'memory';
  }

  /** Seqs of blocks that may hold an object with this content root and compact metadata. */
  candidates(root: Uint8Array, meta: Uint8Array): number[] {
    this.#catchUp();
    const out: number[] = [];
    const held = this.#seqsByKey.get(memoryKey(root, meta));
    if (typeof held === 'number') out.push(held);
    else if (held) out.push(...held);
    if (this.#byKey) out.push(...this.#byKey.all(identityKey(root, meta)));
    return out;
  }

  /** The writer wrote block `seq` (the next one) with this content root and stored header. */
  added(seq: number, root: Uint8Array, header: Buffer): void {
    if (seq !== this.#indexed + this.#held) throw new Error(`internal: identity of block ${seq} out of order`);
    this.#hold(memoryKey(root, storedCompactMeta(header)));
    Atomics.store(this.#slots, WRITTEN, Math.min(seq + 1, MAX_SLOT));
    if (this.#worker) {
      if (seq % WAKE_EVERY === 0) {
        Atomics.notify(this.#slots, WRITTEN);
        this.#catchUp();
      }
    } else this.#startIfBehind();
  }

  /** The writer's transaction rolled back: blocks from `size` on are gone. */
  truncate(size: number): void {
    this.#catchUp();
    while (this.#held > 0 && this.#indexed + this.#held > size) {
      this.#forget(this.#keys.pop()!, 'newest');
    }
    Atomics.store(this.#slots, WRITTEN, Math.min(size, MAX_SLOT));
  }

  /** Stops the worker (it finishes the transaction it is in) and closes the file. */
  async close(): Promise<void> {
    if (this.#worker) {
      Atomics.store(this.#slots, STOP, 1);
      Atomics.notify(this.#slots, WRITTEN);
      Atomics.notify(this.#slots, STOP);
      this.#worker.ref();
      await this.#exited;
      this.#worker = undefined;
    }
    this.#file?.close();
    this.#file = undefined;
  }

  #hold(key: number): void {
    const seq = this.#indexed + this.#held;
    this.#keys.push(key);
    const seqs = this.#seqsByKey.get(key);
    if (seqs === undefined) this.#seqsByKey.set(key, seq);
    else if (typeof seqs === 'number') this.#seqsByKey.set(key, [seqs, seq]);
    else seqs.push(seq);
  }

  /** Drops the oldest or newest block held under `key`. */
  #forget(key: number, which: 'oldest' | 'newest'): void {
    const seqs = this.#seqsByKey.get(key)!;
    if (typeof seqs === 'number') this.#seqsByKey.delete(key);
    else {
      if (which === 'oldest') seqs.shift();
      else seqs.pop();
      if (seqs.length === 1) this.#seqsByKey.set(key, seqs[0]!);
    }
  }

  #openFile(size: number): void {
    const { db, indexed } = openIdentityFile(this.#init.files!.identity, this.#init.files!.genesis, size);
    this.#file = db;
    this.#byKey = db.prepare<[Buffer], number>('SELECT seq FROM identity WHERE key = ?').pluck();
    this.#indexed = indexed;
  }

  /** Drops from memory the entries the worker has written to the file since last asked. */
  #catchUp(): void {
    if (!this.#worker) return;
    const indexed = Atomics.load(this.#slots, INDEXED);
    while (this.#indexed < indexed && this.#held > 0) {
      this.#forget(this.#keys[this.#head++]!, 'oldest');
      this.#indexed++;
    }
    if (this.#head > 65_536 && this.#head * 2 > this.#keys.length) {
      this.#keys = this.#keys.slice(this.#head);
      this.#head = 0;
    }
  }

  #startIfBehind(): void {
    const files = this.#init.files;
    if (!files || this.#worker || this.#workerFailed) return;
    if (this.#held <= (this.#init.workerAfter ?? WORKER_AFTER)) return;
    try {
      if (!this.#file) this.#openFile(this.#indexed + this.#held);
      Atomics.store(this.#slots, INDEXED, this.#indexed);
      Atomics.store(this.#slots, WRITTEN, Math.min(this.#indexed + this.#held, MAX_SLOT));
      const init: IdentityWorkerInit = {
        archiveFile: files.archive,
        identityFile: files.identity,
        shared: this.#slots.buffer as SharedArrayBuffer,
        batch: WORKER_BATCH,
        pauseMs: WORKER_PAUSE_MS,
      };
      const worker = new Worker(workerUrl(), { workerData: init });
      worker.unref();
      this.#exited = new Promise((resolve) => worker.once('exit', () => resolve()));
      worker.on('error', () => {
        // The entries stay in memory from here on: slower to open next time, never wrong.
        this.#workerFailed = true;
      });
      this.#worker = worker;
    } catch {
      this.#workerFailed = true;
    }
  }
}
