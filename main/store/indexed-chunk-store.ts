import type { Statement } from 'better-sqlite3';
import { inSnapshot, type Db } from '../db/database.js';
import { FrameCache, frameShares, newMembers } from './groups.js';
import { framePlace, loadVerified, storedChunk, type StoredChunk } from './verified-read.js';
import {
  ChunkMissingError,
  ChunkStoreConflictError,
  ChunkStoreReadonlyError,
  type ChunkInfo,
  type ChunkProblem,
  type ChunkStore,
  type ChunkTotals,
  CHUNK_BY_ID,
  Codec,
  type NewChunk,
  type SealedGroup,
} from './types.js';

interface Row {
  rid: number;
  id: Buffer;
  raw_len: number;
  stored_len: number;
  codec: number;
  pack: number | null;
  offset: number | null;
  frame_len: number | null;
  frame_raw: number | null;
  frame_at: number | null;
}

const COLUMNS = 'rid, id, raw_len, stored_len, codec, pack, offset, frame_len, frame_raw, frame_at';
const CHECK_PAGE = 1000;
/**
 * Committed chunks of this process kept for lookups (see #recent): an object's lookups come within
 * a few hundred ms of its chunks' commit, and the corpus store puts ~7,000 chunks a second.
 */
const RECENT = 16_384;

const toChunk = (r: Row): StoredChunk =>
  storedChunk(
    r.rid,
    r.id,
    r.raw_len,
    r.stored_len,
    r.codec as Codec,
    r.pack,
    r.offset,
    r.frame_len === null || r.frame_raw === null || r.frame_at === null
      ? null
      : framePlace(r.frame_len, r.frame_raw, r.frame_at),
  );

/**
 * What both chunk stores share: the `chunks` index in SQLite, the chunks put by this process but not
 * yet committed, and verified reads. Subclasses decide only where the bytes go.
 *
 * Row ids are handed out at `put` (the archive records them in object_chunks in the same
 * transaction), counting up from the largest committed one; only one writer exists at a time.
 * `persist` runs inside the archive's transaction, which may still roll back: the chunks it indexed
 * stay "in flight" in memory until, outside any transaction, one query shows whether their rows
 * committed — if not, they are pending again and the next persist indexes them anew.
 */
export type { FramePlace, StoredChunk } from './verified-read.js';

export abstract class IndexedChunkStore implements ChunkStore {
  protected readonly db: Db;
  readonly readonly: boolean;
  #pending: StoredChunk[] = [];
  #inflight: StoredChunk[] = [];
  /** Pending and in-flight chunks, by id (latin1 string of the 32 bytes) and by rid. */
  readonly #byId = new Map<string, StoredChunk>();
  /**
   * Chunks this process put whose rows have committed, the newest RECENT of them, by id: an object
   * looks its chunks up again after its group is stored and when its block is appended, by then
   * often past the commit of their rows (chunks are never changed nor removed, so a row once
   * committed stays as it is).
   */
  readonly #recent = new Map<string, StoredChunk>();
  readonly #byRid = new Map<number, StoredChunk>();
  #nextRid = 0;
  readonly #selectById: Statement<[Buffer, Buffer], Row>;
  readonly #selectByRid: Statement<[number], Row>;
  readonly #selectPage: Statement<[number, number], Row>;
  readonly #countRange: Statement<[number, number], number>;
  readonly #totals: Statement<[], ChunkTotals>;
  readonly #insert:
    | Statement<
        [
          number,
          Buffer,
          number,
          number,
          number,
          number | null,
          number | null,
          number | null,
          number | null,
          number | null,
        ]
      >
    | undefined;
  readonly #frames = new FrameCache();
  readonly #readBytes = (c: StoredChunk): Buffer | undefined => this.readBytes(c);
  /**
   * Row ids of chunks this process put that no object has referenced yet (see claim), committed or
   * not: this process is the only writer. A claim only removes, so a rolled-back reference leaves
   * its chunk claimed (the next object with it is looked for: slower, never wrong).
   */
  readonly #unclaimed = new Set<number>();

  constructor(db: Db, readonly: boolean) {
    this.db = db;
    this.readonly = readonly;
    this.#selectById = db.prepare(`SELECT ${COLUMNS} FROM chunks WHERE ${CHUNK_BY_ID}`);
    this.#selectByRid = db.prepare(`SELECT ${COLUMNS} FROM chunks WHERE rid = ?`);
    this.#selectPage = db.prepare(`SELECT ${COLUMNS} FROM chunks WHERE rid > ? ORDER BY rid LIMIT ?`);
    this.#countRange = db
      .prepare<[number, number], number>('SELECT count(*) FROM chunks WHERE rid BETWEEN ? AND ?')
      .pluck();
    this.#totals = db.prepare(
      'SELECT count(*) AS chunks, coalesce(sum(raw_len), 0) AS rawBytes, coalesce(sum(stored_len), 0) AS storedBytes FROM chunks',
    );
    if (!readonly) {
      this.#insert = db.prepare(`INSERT OR IGNORE INTO chunks (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
      this.#nextRid = this.committedMaxRid() + 1;
    }
  }

  /** The largest committed row id (0 when there is none). */
  protected committedMaxRid(): number {
    return this.db.prepare<[], number>('SELECT coalesce(max(rid), 0) FROM chunks').pluck().get() ?? 0;
  }

  /** Whether this store can hold groups (pack stores). */
  abstract readonly groups: boolean;
  /** Writes (or stages) the stored bytes of a new chunk; returns where they went. */
  protected abstract writeBytes(rid: number, data: Buffer): { pack: number | null; offset: number | null };
  /** The stored bytes of a chunk, or undefined when they are not there (missing row, short file). */
  protected abstract readBytes(chunk: StoredChunk): Buffer | undefined;
  /** Inside the persist transaction, before the rows of `chunks` are inserted. */
  protected abstract persistBytes(chunks: readonly StoredChunk[]): void;
  /** After a transaction that indexed `lost` rolled back; they are pending again. */
  protected abstract onRolledBack(lost: readonly StoredChunk[]): void;
  /** After the rows of `committed` are known to be committed. */
  protected abstract onCommitted(committed: readonly StoredChunk[]): void;
  abstract sync(): void;
  abstract syncAsync(): Promise<void>;
  protected abstract closeBytes(): void;

  protected requireWriter(what: string): void {
    if (this.readonly) throw new ChunkStoreReadonlyError(`cannot ${what}: the chunk store was opened read-only`);
  }

  lookup(id: Buffer): ChunkInfo | undefined {
    return this.#find(id);
  }

  claim(chunks: readonly ChunkInfo[]): boolean {
    let fresh = false;
    for (const c of chunks) if (this.#unclaimed.delete(c.rid)) fresh = true;
    return fresh;
  }

  put(chunk: NewChunk): ChunkInfo {
    this.requireWriter('put a chunk');
    const { data, codec } = chunk.encoded;
    if (codec === Codec.Grouped) throw new TypeError('a grouped chunk is stored with its group (putGroup)');
    const known = this.#find(chunk.id);
    if (known) return known;
    const rid = this.#nextRid++;
    const where = this.writeBytes(rid, data);
    const stored = storedChunk(
      rid,
      Buffer.from(chunk.id),
      chunk.rawLength,
      data.length,
      codec,
      where.pack,
      where.offset,
      null,
    );
    this.#add(stored);
    return stored;
  }

  putGroup(group: SealedGroup): void {
    this.requireWriter('put a group');
    if (!this.groups) throw new TypeError('this chunk store does not hold groups');
    // Members already stored keep their rows. Looked for in one read transaction: a group's ~30
    // lookups otherwise each take and drop SQLite's read lock (3 syscalls) when the archive's
    // transaction is not open.
    const members = inSnapshot(this.db, () => newMembers(group, (id) => this.#find(id) !== undefined));
    if (members.length === 0) return; // every member is stored already: the frame is not needed
    const frame = group.frame;
    const { pack, offset } = this.writeBytes(this.#nextRid, frame);
    const shares = frameShares(
      frame.length,
      members.map((m) => m.rawLength),
    );
    members.forEach((m, i) =>
      this.#add(
        storedChunk(
          this.#nextRid++,
          Buffer.from(m.id),
          m.rawLength,
          shares[i]!,
          Codec.Grouped,
          pack,
          offset,
          framePlace(frame.length, group.rawLength, m.at),
        ),
      ),
    );
  }

  #add(stored: StoredChunk): void {
    this.#unclaimed.add(stored.rid);
    this.#pending.push(stored);
    this.#byId.set(stored.id.toString('latin1'), stored);
    this.#byRid.set(stored.rid, stored);
  }

  mark(): number {
    return this.#nextRid;
  }

  persist(before = Infinity): void {
    this.requireWriter('persist chunks');
    this.#settle(true);
    // Pending chunks are in row id order (lost ones go back in front), and row ids follow puts.
    let n = this.#pending.length;
    while (n > 0 && this.#pending[n - 1]!.rid >= before) n--;
    const batch = n === this.#pending.length ? this.#pending : this.#pending.slice(0, n);
    if (batch.length === 0) return;
    const insert = this.#insert!;
    // Inside the archive's open transaction the rows are part of it (a failure rolls it all back, and
    // a savepoint would copy every page first touched here to the statement journal); alone, this is
    // its own transaction.
    const write = (): void => {
      this.persistBytes(batch);
      for (const c of batch) {
        const f = c.frame;
        const args = [c.rid, c.id, c.rawLength, c.storedLength, c.codec, c.pack, c.offset] as const;
        if (insert.run(...args, f?.len ?? null, f?.raw ?? null, f?.at ?? null).changes === 1) continue;
        const row = this.#selectById.get(c.id, c.id);
        if (!row || row.rid !== c.rid)
          throw new ChunkStoreConflictError(
            `chunk ${c.id.toString('hex')} (row ${c.rid}) collides with row ${row?.rid ?? c.rid}: another writer?`,
          );
      }
    };
    if (this.db.inTransaction) write();
    else this.db.transaction(write)();
    this.#pending = this.#pending.slice(batch.length);
    this.#inflight.push(...batch);
    this.#settle();
  }

  settle(): void {
    this.#settle();
  }

  read(id: Buffer): Buffer {
    const chunk = this.#find(id);
    if (!chunk)
      throw new ChunkMissingError(`chunk ${id.toString('hex')} is not in the archive`, { chunkId: id.toString('hex') });
    return loadVerified(chunk, this.#readBytes, this.#frames);
  }

  readByRid(rid: number): Buffer {
    this.#settle();
    const row = this.#byRid.get(rid) ?? this.#rowByRid(rid);
    if (!row) throw new ChunkMissingError(`no chunk with row id ${rid}`);
    return loadVerified(row, this.#readBytes, this.#frames);
  }

  totals(): ChunkTotals {
    this.#settle();
    const t = this.#totals.get()!;
    let { chunks, rawBytes, storedBytes } = t;
    for (const c of this.#pending) {
      chunks++;
      rawBytes += c.rawLength;
      storedBytes += c.storedLength;
    }
    return { chunks, rawBytes, storedBytes };
  }

  check(onProgress?: (done: number, total: number) => void): ChunkProblem[] {
    this.#settle();
    // Every frame is read from disk again: a check must not vouch for bytes it only remembers.
    this.#frames.clear();
    const problems: ChunkProblem[] = [];
    const total = this.#totals.get()!.chunks + this.#pending.length;
    let done = 0;
    const visit = (c: StoredChunk): void => {
      try {
        loadVerified(c, this.#readBytes, this.#frames);
      } catch (e) {
        const err = e as Error;
        const problem =
          err.name === 'ChunkMissingError' ? 'missing' : err.name === 'ChunkCorruptError' ? 'corrupt' : 'unreadable';
        problems.push({ id: c.id.toString('hex'), problem, detail: err.message });
      }
      onProgress?.(++done, total);
    };
    // Paged rather than iterated: better-sqlite3 keeps the connection busy during an iteration,
    // and the inline store needs it to read each chunk's bytes.
    for (let after = 0; ;) {
      const page = this.#selectPage.all(after, CHECK_PAGE);
      for (const r of page) visit(toChunk(r));
      if (page.length < CHECK_PAGE) break;
      after = page.at(-1)!.rid;
    }
    for (const c of this.#pending) visit(c);
    return problems;
  }

  close(): void {
    this.closeBytes();
  }

  #rowByRid(rid: number): StoredChunk | undefined {
    const r = this.#selectByRid.get(rid);
    return r ? toChunk(r) : undefined;
  }

  #find(id: Buffer): StoredChunk | undefined {
    this.#settle();
    if (this.#byId.size > 0 || this.#recent.size > 0) {
      const k = id.toString('latin1');
      const mine = this.#byId.get(k) ?? this.#recent.get(k);
      if (mine) return mine;
    }
    const r = this.#selectById.get(id, id);
    return r ? toChunk(r) : undefined;
  }

  /**
   * Resolves in-flight chunks. Outside a transaction their rows are either committed (they leave
   * memory) or gone (they are pending again). Inside one, a visible row may still roll back, so only
   * absent rows are decided — that check costs a query, so it runs only when `persist` asks for it
   * (a persist right after a failed one must index the lost chunks again).
   */
  #settle(insideTransactionToo = false): void {
    const inflight = this.#inflight;
    if (inflight.length === 0) return;
    const inTransaction = this.db.inTransaction;
    if (inTransaction && !insideTransactionToo) return;
    const present = this.#countRange.get(inflight[0]!.rid, inflight.at(-1)!.rid) ?? 0;
    if (present === inflight.length && inTransaction) return;
    // A transaction commits all of its rows or none, so the count nearly always decides at once.
    let visible = inflight;
    let lost: StoredChunk[] = [];
    if (present !== inflight.length) {
      visible = present === 0 ? [] : inflight.filter((c) => this.#selectByRid.get(c.rid) !== undefined);
      const ok = new Set(visible);
      lost = inflight.filter((c) => !ok.has(c));
    }
    this.#inflight = inTransaction ? visible : [];
    if (!inTransaction) {
      for (const c of visible) {
        const k = c.id.toString('latin1');
        this.#byId.delete(k);
        this.#byRid.delete(c.rid);
        this.#recent.set(k, c);
      }
      // Map keeps insertion order: the oldest go first.
      for (const k of this.#recent.keys()) {
        if (this.#recent.size <= RECENT) break;
        this.#recent.delete(k);
      }
      if (visible.length > 0) this.onCommitted(visible);
    }
    if (lost.length > 0) {
      this.#pending = [...lost, ...this.#pending];
      this.onRolledBack(lost);
    }
  }
}
