import type { Statement } from 'better-sqlite3';
import { IndexedChunkStore, type StoredChunk } from './indexed-chunk-store.js';
import type { ChunkStoreInit } from './types.js';

/** Staged bytes are written out once they pass this, so a huge object never sits in memory. */
const STAGE_LIMIT = 8 * 2 ** 20;

/**
 * Chunk bytes inline in SQLite (`chunk_data`, keyed by the chunk's row id). New bytes are staged in
 * memory and written in one transaction per few MiB (or at `sync`), ahead of the `chunks` rows that
 * make them visible: a crash leaves `chunk_data` rows above the largest committed row id, which the
 * next writer deletes — the same "cut what was not committed" rule as the pack store's.
 */
export class SqliteChunkStore extends IndexedChunkStore {
  /** Bytes live under each chunk's own row id: a frame shared by several rows has no place here. */
  readonly groups = false;
  /** Bytes not yet in chunk_data, by row id. */
  readonly #staged = new Map<number, Buffer>();
  #stagedBytes = 0;
  /** Bytes written inside a persist transaction not yet known to have committed: a rollback loses them. */
  readonly #retained = new Map<number, Buffer>();
  readonly #selectData: Statement<[number], Buffer>;
  readonly #insertData: Statement<[number, Buffer]> | undefined;

  constructor(init: ChunkStoreInit) {
    super(init.db, init.readonly ?? false);
    this.#selectData = init.db.prepare<[number], Buffer>('SELECT data FROM chunk_data WHERE rid = ?').pluck();
    if (this.readonly) return;
    this.#insertData = init.db.prepare('INSERT OR REPLACE INTO chunk_data (rid, data) VALUES (?, ?)');
    init.db.prepare('DELETE FROM chunk_data WHERE rid > ?').run(this.committedMaxRid());
  }

  protected writeBytes(rid: number, data: Buffer): { pack: null; offset: null } {
    // A copy: the caller's buffer may be a view of a larger one it reuses.
    this.#staged.set(rid, Buffer.from(data));
    this.#stagedBytes += data.length;
    // Inside a foreign transaction a write could be rolled back behind our back: wait for persist.
    if (this.#stagedBytes >= STAGE_LIMIT && !this.db.inTransaction) this.#flush();
    return { pack: null, offset: null };
  }

  #flush(): void {
    if (this.#staged.size === 0) return;
    const insert = this.#insertData!;
    this.db.transaction(() => {
      for (const [rid, data] of this.#staged) insert.run(rid, data);
    })();
    this.#staged.clear();
    this.#stagedBytes = 0;
  }

  protected readBytes(c: StoredChunk): Buffer | undefined {
    return this.#staged.get(c.rid) ?? this.#retained.get(c.rid) ?? this.#selectData.get(c.rid);
  }

  protected persistBytes(): void {
    // Only reached inside persist's transaction: these rows commit or vanish with the chunk rows.
    for (const [rid, data] of this.#staged) this.#retained.set(rid, data);
    this.#flush();
  }

  protected onRolledBack(lost: readonly StoredChunk[]): void {
    for (const c of lost) {
      const data = this.#retained.get(c.rid);
      if (!data) continue; // written before the transaction, still there
      this.#retained.delete(c.rid);
      this.#staged.set(c.rid, data);
      this.#stagedBytes += data.length;
    }
  }

  protected onCommitted(committed: readonly StoredChunk[]): void {
    if (this.#retained.size === 0) return;
    for (const c of committed) this.#retained.delete(c.rid);
  }

  sync(): void {
    this.requireWriter('sync');
    if (!this.db.inTransaction) this.#flush();
  }

  /** SQLite writes happen on this thread whatever we do: the same as `sync`. */
  async syncAsync(): Promise<void> {
    this.sync();
  }

  protected closeBytes(): void {
    this.#staged.clear();
    this.#retained.clear();
  }
}
