import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { toHex } from '../../shared/bytes.js';
import type { SignedCheckpoint } from '../../shared/checkpoint.js';
import { openDb, type Db } from '../db/database.js';
import { WalCheckpointer } from '../db/wal-checkpointer.js';
import { IDENTITY_FILE } from '../dag/identity-file.js';
import { IdentityIndex } from '../dag/identity-index.js';
import { BlockIndex, type BlockRecord } from '../dag/block-index.js';
import { BlockWriter, type BlockSpec, type WrittenBlock } from '../dag/block-writer.js';
import type { ParentRuleInit } from '../dag/parent-selector.js';
import {
  DEFAULT_CHUNKER,
  DEFAULT_CHUNK_STORE,
  DEFAULT_ZSTD_LEVEL,
  createChunkStore,
  createIngestPool,
  type IngestPool,
} from '../store/index.js';
import { DEFAULT_GROUP_BYTES, type ChunkStore, type ChunkerParams, type SealedGroup } from '../store/types.js';
import { makeCheckpoint, latestCheckpoint, listCheckpoints } from './checkpoints.js';
import { Committer } from './committer.js';
import { getBlock, requireWriter, type ArchiveContext } from './context.js';
import { ArchiveNotFoundError } from './errors.js';
import type { CheckOptions, IntegrityReport } from './integrity.js';
import { loadOrCreateKey, type ArchiveKey } from './keys.js';
import { readObject, writeObjectToFile } from './read-ops.js';
import { restore, type RestoreSummary } from './restore.js';
import type { TreeRestoreOptions } from './restore-tree.js';
import { archiveStats, type ArchiveStats } from './stats.js';
import type { Ingester, StoreOptions } from './store-ops.js';
import { storePaths, type StoreSummary } from './store-tree.js';
import { WriterLock } from './writer-lock.js';
import { SOFTWARE } from '../util/version.js';
import { buildProof, type ProofOptions } from './proofs.js';

export { SOFTWARE };

/** Options for {@link Archive.open}; every field has a documented default. */
export interface ArchiveInit {
  /** Data directory (created when writable). */
  readonly dir: string;
  /** Open for reading only: no writer lock, no workers. Default false. */
  readonly readonly?: boolean;
  /** Chunking parameters for a NEW archive (an existing one keeps its own). Default DEFAULT_CHUNKER. */
  readonly chunker?: ChunkerParams;
  /** zstd level for new chunks. Default DEFAULT_ZSTD_LEVEL. */
  readonly zstdLevel?: number;
  /** Where chunk bytes live, for a NEW archive. Default DEFAULT_CHUNK_STORE. */
  readonly chunkStore?: 'pack' | 'sqlite';
  /** Ingest worker threads. Default: the number of CPUs. */
  readonly workers?: number;
  /** Parent selection parameters. Default: the seed's balanced-random rule. */
  readonly parentRule?: ParentRuleInit;
  /** Random source for parent selection (tests pass a seeded one). Default Math.random. */
  readonly random?: () => number;
  /** Clock in ms. Default Date.now. */
  readonly now?: () => number;
  /** Group-commit delay in ms. Default 50 (see CommitterInit.maxDelayMs). */
  readonly commitDelayMs?: number;
}

function chunkerString(p: ChunkerParams): string {
  return `gear-cdc/1 min=${p.min} avg=${p.avg} max=${p.max}`;
}

function parseChunker(s: string | undefined): ChunkerParams {
  const m = /^gear-cdc\/1 min=(\d+) avg=(\d+) max=(\d+)$/.exec(s ?? '');
  if (!m) throw new Error(`the archive's genesis names an unknown chunker: ${JSON.stringify(s)}`);
  return { min: Number(m[1]), avg: Number(m[2]), max: Number(m[3]) };
}

/**
 * A Pakit archive: the chunk store, the DAG of blocks, the block log and its checkpoints. One
 * writer per data directory (enforced by a lock); any number of read-only instances alongside.
 */
export class Archive {
  readonly ctx: ArchiveContext;
  readonly #lock?: WriterLock;
  #pool?: IngestPool;
  #checkpointer?: WalCheckpointer;
  #committer?: Committer;
  readonly #workers?: number;
  readonly #now: () => number;
  readonly #commitDelayMs?: number;

  private constructor(ctx: ArchiveContext, init: ArchiveInit, lock?: WriterLock) {
    this.ctx = ctx;
    this.#lock = lock;
    this.#workers = init.workers;
    this.#now = init.now ?? Date.now;
    this.#commitDelayMs = init.commitDelayMs;
  }

  static async open(init: ArchiveInit): Promise<Archive> {
    const dir = init.dir;
    const dbFile = join(dir, 'archive.db');
    if (init.readonly) {
      if (!existsSync(dbFile)) throw new ArchiveNotFoundError(`no archive in ${dir} (no archive.db)`);
      const db = openDb(dbFile, { readonly: true });
      try {
        return new Archive(Archive.#context(dir, dbFile, db, init, false), init);
      } catch (e) {
        db.close();
        throw e;
      }
    }
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const lock = WriterLock.acquire(dir);
    let db: Db | undefined;
    try {
      db = openDb(dbFile);
      const key = loadOrCreateKey(dir, true)!;
      const hasGenesis = db.prepare('SELECT 1 FROM blocks WHERE seq = 0').get() !== undefined;
      if (!hasGenesis) Archive.#createGenesis(db, key, init);
      const archive = new Archive(Archive.#context(dir, dbFile, db, init, true, key), init, lock);
      archive.#checkpointer = WalCheckpointer.start(db, dbFile);
      return archive;
    } catch (e) {
      db?.close();
      lock.release();
      throw e;
    }
  }

  static #createGenesis(db: Db, key: ArchiveKey, init: ArchiveInit): void {
    const chunker = init.chunker ?? DEFAULT_CHUNKER;
    const store = init.chunkStore ?? DEFAULT_CHUNK_STORE;
    const writer = new BlockWriter(db, { now: init.now });
    db.transaction(() => {
      writer.writeGenesis({
        archiveId: randomBytes(16).toString('hex'),
        chunker: chunkerString(chunker),
        publicKey: toHex(key.publicKey),
        software: SOFTWARE,
      });
      db.prepare("INSERT INTO meta (key, value) VALUES ('chunkStore', ?)").run(store);
    }).immediate();
  }

  static #context(
    dir: string,
    dbFile: string,
    db: Db,
    init: ArchiveInit,
    writable: boolean,
    key?: ArchiveKey,
  ): ArchiveContext {
    const index = new BlockIndex(db, dbFile, { soleWriter: writable });
    const genesis = index.bySeq(0);
    if (!genesis) throw new ArchiveNotFoundError(`the archive in ${dir} has no genesis block`);
    const kind =
      (db.prepare("SELECT value FROM meta WHERE key = 'chunkStore'").pluck().get() as 'pack' | 'sqlite' | undefined) ??
      'pack';
    const chunks: ChunkStore = createChunkStore(kind, { db, dir, readonly: !writable });
    const writer = writable
      ? new BlockWriter(db, {
          rule: init.parentRule,
          random: init.random,
          now: init.now,
          identity: new IdentityIndex(db, {
            files: { archive: dbFile, identity: join(dir, IDENTITY_FILE), genesis: genesis.hash },
          }),
        })
      : undefined;
    return {
      dir,
      dbFile,
      db,
      chunks,
      index,
      genesis,
      chunker: parseChunker(genesis.header.meta.chunker),
      zstdLevel: init.zstdLevel ?? DEFAULT_ZSTD_LEVEL,
      writer,
      key,
    };
  }

  /** The archive's identity: its genesis block hash. */
  get id(): string {
    return toHex(this.ctx.genesis.hash);
  }

  get readonly(): boolean {
    return this.ctx.writer === undefined;
  }

  /** The writer's ingest parts (pool, group committer), for other writers such as main/sync. */
  ingester(): Ingester {
    requireWriter(this.ctx);
    // The end of a store: the WAL checkpoint starts copying on its own core while the store's tail
    // (the snapshot) runs, so that closing the database has less left to copy.
    this.#committer ??= new Committer(this.ctx, {
      maxDelayMs: this.#commitDelayMs,
      onHurry: () => this.#checkpointer?.soon(),
    });
    this.#pool ??= createIngestPool({
      params: this.ctx.chunker,
      zstdLevel: this.ctx.zstdLevel,
      dbFile: this.ctx.dbFile,
      workers: this.#workers,
      commits: this.#committer.commits,
      ...(this.ctx.chunks.groups
        ? { groupBytes: DEFAULT_GROUP_BYTES, onGroup: (g: SealedGroup) => this.ctx.chunks.putGroup(g) }
        : {}),
    });
    return { ctx: this.ctx, pool: this.#pool, committer: this.#committer };
  }

  /** Stores files and directories (recursively, each directory also as a snapshot block). */
  store(paths: readonly string[], opts?: StoreOptions): Promise<StoreSummary> {
    return storePaths(this.ingester(), paths, opts);
  }

  /**
   * Appends metadata-only blocks (no content) in one transaction — what a snapshot or tombstone
   * costs in the DAG. Used by the block-rate benchmark and by sync's bookkeeping.
   */
  appendBlocks(specs: readonly BlockSpec[]): WrittenBlock[] {
    const writer = requireWriter(this.ctx);
    try {
      return this.ctx.db.transaction(() => writer.batch(() => specs.map((s) => writer.append(s)))).immediate();
    } catch (e) {
      writer.reload();
      throw e;
    }
  }

  /** Signs a checkpoint over the whole log (or returns the newest if it already covers it). */
  checkpoint(): SignedCheckpoint {
    // A checkpoint signs the log: never over blocks of a transaction that could still roll back.
    this.#committer?.commitNow();
    return makeCheckpoint(this.ctx, this.#now);
  }

  latestCheckpoint(): SignedCheckpoint | undefined {
    return latestCheckpoint(this.ctx);
  }

  checkpoints(): SignedCheckpoint[] {
    return listCheckpoints(this.ctx);
  }

  block(hash: string | Uint8Array): BlockRecord {
    return getBlock(this.ctx, hash);
  }

  read(hash: string | Uint8Array): AsyncGenerator<Buffer> {
    return readObject(this.ctx, hash);
  }

  writeTo(hash: string | Uint8Array, file: string): Promise<void> {
    return writeObjectToFile(this.ctx, getBlock(this.ctx, hash), file);
  }

  restore(hash: string | Uint8Array, toDir: string, opts?: TreeRestoreOptions): Promise<RestoreSummary> {
    return restore(this.ctx, hash, toDir, opts);
  }

  stats(): ArchiveStats {
    return archiveStats(this.ctx);
  }

  async check(opts?: CheckOptions): Promise<IntegrityReport> {
    // Loaded when asked for: it brings the Ed25519 verifier (noble's curves), ~50 ms of every
    // command's start otherwise.
    const { checkIntegrity } = await import('./integrity.js');
    return checkIntegrity(this.ctx, opts);
  }

  proof(hash: string | Uint8Array, opts?: ProofOptions): ReturnType<typeof buildProof> {
    return buildProof(this.ctx, hash, opts);
  }

  /** Every stored object (file, symlink, snapshot), oldest first. */
  *objects(): Generator<BlockRecord> {
    const seqs = this.ctx.db
      .prepare("SELECT seq FROM blocks WHERE kind <> 'genesis' ORDER BY seq")
      .pluck()
      .all() as number[];
    for (const seq of seqs) yield this.ctx.index.bySeq(seq)!;
  }

  async close(): Promise<void> {
    await this.#committer?.flush();
    // The ingest workers end while the checkpoint worker empties the WAL (see WalCheckpointer.close).
    await Promise.all([this.#pool?.close(), this.#checkpointer?.close(), this.ctx.writer?.identity.close()]);
    this.ctx.chunks.close();
    this.ctx.index.close();
    this.ctx.db.close();
    this.#lock?.release();
  }
}
