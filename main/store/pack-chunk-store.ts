import {
  closeSync,
  fdatasync,
  fdatasyncSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  statSync,
  truncateSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Statement } from 'better-sqlite3';
import { IndexedChunkStore, type StoredChunk } from './indexed-chunk-store.js';
import type { ChunkStoreInit } from './types.js';

/** Default size at which a new pack file starts: big enough to keep file counts low, small enough to copy. */
export const DEFAULT_PACK_SIZE_LIMIT = 2 ** 30;

const PACK_NAME = /^(\d+)\.pack$/;
const fdatasyncAsync = promisify(fdatasync);

interface OpenPack {
  readonly id: number;
  readonly fd: number;
  size: number;
}

/**
 * Chunk bytes appended to pack files `<dir>/packs/<id>.pack`, located by (pack, offset) in `chunks`.
 * `packs.size` is the committed length of each pack, updated in the same transaction as the rows
 * that point into it; anything past it was written by a process that died before committing, and is
 * cut when the archive is next opened for writing. Readers only ever read below committed sizes, so
 * they can share the files with a writer that keeps appending.
 */
export class PackChunkStore extends IndexedChunkStore {
  readonly groups = true;
  readonly #dir: string;
  readonly #limit: number;
  /** Descriptors for positional reads, opened on first use and kept. */
  readonly #readFds = new Map<number, number>();
  #current: OpenPack | undefined;
  #nextPackId = 1;
  /** Writes so far, and how many of them are known durable (counters, so a background sync knows what it covered). */
  #writes = 0;
  #synced = 0;
  /** Pack files were created or removed since the directory was last fsync'ed. */
  #dirDirty = false;
  /**
   * Descriptors of packs closed by a rotation while they had writes not known durable: the next
   * sync makes them so, with the current pack.
   */
  #retired: number[] = [];
  readonly #upsertPack: Statement<[number, number]> | undefined;

  constructor(init: ChunkStoreInit) {
    super(init.db, init.readonly ?? false);
    this.#dir = join(init.dir, 'packs');
    this.#limit = init.packSizeLimit ?? DEFAULT_PACK_SIZE_LIMIT;
    if (this.readonly) return;
    this.#upsertPack = init.db.prepare(
      'INSERT INTO packs (id, size) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET size = max(size, excluded.size)',
    );
    mkdirSync(this.#dir, { recursive: true });
    this.#recover();
  }

  /** Cuts every pack back to its committed size and removes packs no committed row knows. */
  #recover(): void {
    const rows = this.db.prepare<[], { id: number; size: number }>('SELECT id, size FROM packs ORDER BY id').all();
    const committed = new Map(rows.map((r) => [r.id, r.size]));
    for (const name of readdirSync(this.#dir)) {
      const m = PACK_NAME.exec(name);
      if (!m) continue;
      const path = join(this.#dir, name);
      const size = committed.get(Number(m[1]));
      if (size === undefined) {
        unlinkSync(path);
        this.#dirDirty = true;
      } else if (statSync(path).size > size) {
        truncateSync(path, size);
      }
    }
    const last = rows.at(-1);
    this.#nextPackId = (last?.id ?? 0) + 1;
    // Keep appending to the last pack unless it is full or shorter than committed (bytes lost:
    // appending would leave a hole; `check` reports the loss).
    if (last && last.size < this.#limit) {
      const path = this.#path(last.id);
      try {
        if (statSync(path).size === last.size)
          this.#current = { id: last.id, fd: openSync(path, 'r+'), size: last.size };
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
    }
  }

  #path(id: number): string {
    return join(this.#dir, `${id}.pack`);
  }

  /**
   * Closes the current pack to appends and starts a new, empty one. The old pack's fdatasync waits
   * for the next sync, which runs on the thread pool when the archive commits: done here, on the
   * main thread, it stalled the event loop while up to a whole pack was flushed (0.7–0.9 s in the
   * bench's 2 GiB store).
   */
  #rotate(): OpenPack {
    const old = this.#current;
    if (old) {
      if (this.#writes > this.#synced) this.#retired.push(old.fd);
      this.#readFds.set(old.id, old.fd);
    }
    const id = this.#nextPackId++;
    const pack = { id, fd: openSync(this.#path(id), 'w+'), size: 0 };
    this.#current = pack;
    this.#dirDirty = true;
    return pack;
  }

  protected writeBytes(_rid: number, data: Buffer): { pack: number; offset: number } {
    let pack = this.#current;
    if (!pack || (pack.size > 0 && pack.size + data.length > this.#limit)) pack = this.#rotate();
    const offset = pack.size;
    for (let done = 0; done < data.length;) done += writeSync(pack.fd, data, done, data.length - done, offset + done);
    pack.size += data.length;
    this.#writes++;
    return { pack: pack.id, offset };
  }

  protected readBytes(c: StoredChunk): Buffer | undefined {
    if (c.pack === null || c.offset === null) return undefined;
    const fd = this.#fd(c.pack);
    if (fd === undefined) return undefined;
    const buf = Buffer.allocUnsafe(c.storedLength);
    let got = 0;
    while (got < buf.length) {
      const n = readSync(fd, buf, got, buf.length - got, c.offset + got);
      if (n === 0) return undefined; // the pack ends early: the bytes are gone
      got += n;
    }
    return buf;
  }

  #fd(pack: number): number | undefined {
    if (this.#current?.id === pack) return this.#current.fd;
    let fd = this.#readFds.get(pack);
    if (fd === undefined) {
      try {
        fd = openSync(this.#path(pack), 'r');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw e;
      }
      this.#readFds.set(pack, fd);
    }
    return fd;
  }

  protected persistBytes(chunks: readonly StoredChunk[]): void {
    const ends = new Map<number, number>();
    for (const c of chunks) {
      const end = c.offset! + (c.frame?.len ?? c.storedLength);
      if (end > (ends.get(c.pack!) ?? 0)) ends.set(c.pack!, end);
    }
    for (const [pack, end] of ends) this.#upsertPack!.run(pack, end);
  }

  protected onRolledBack(): void {
    // The bytes are still in the pack past its committed size; the next persist indexes them.
  }

  protected onCommitted(): void {}

  sync(): void {
    this.requireWriter('sync');
    for (const fd of this.#retired) fdatasyncSync(fd);
    this.#retired = [];
    if (this.#current && this.#writes > this.#synced) fdatasyncSync(this.#current.fd);
    this.#synced = this.#writes;
    if (this.#dirDirty) {
      // A new pack file's directory entry must be durable too, or a crash could lose the whole file.
      const fd = openSync(this.#dir, 'r');
      try {
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      this.#dirDirty = false;
    }
  }

  async syncAsync(): Promise<void> {
    this.requireWriter('sync');
    const upTo = this.#writes;
    const pack = this.#current;
    const retired = this.#retired;
    this.#retired = [];
    if (upTo > this.#synced) {
      // A rotation while this runs retires `pack` again: the next sync covers what follows upTo.
      try {
        await Promise.all([...retired, ...(pack ? [pack.fd] : [])].map((fd) => fdatasyncAsync(fd)));
      } catch (e) {
        this.#retired.unshift(...retired);
        throw e;
      }
      if (upTo > this.#synced) this.#synced = upTo;
    }
    if (this.#dirDirty) {
      this.#dirDirty = false;
      const dir = await open(this.#dir, 'r');
      try {
        await dir.sync();
      } catch (e) {
        this.#dirDirty = true;
        throw e;
      } finally {
        await dir.close();
      }
    }
  }

  protected closeBytes(): void {
    for (const fd of this.#readFds.values()) closeSync(fd);
    this.#readFds.clear();
    this.#retired = [];
    if (this.#current) closeSync(this.#current.fd);
    this.#current = undefined;
  }
}
