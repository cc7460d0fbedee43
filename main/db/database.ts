import Database from 'better-sqlite3';
import { tuneConnection } from './connection.js';
import { migrations, type Migration } from './migrations/index.js';

export type Db = Database.Database;
type Statement = Database.Statement;

/**
 * The start of a multi-row `INSERT … VALUES (…), (…)` made inside a transaction that is rolled
 * back whole on any error. SQLite gives a multi-row statement that may abort (ABORT, the default
 * conflict rule) a statement journal: a copy of every page it first touches, so the statement
 * alone can be undone. Nothing of ours needs that (the caller rolls back the transaction), and on
 * the block-append path those copies were the largest single use of `malloc`. With FAIL a
 * conflict still stops the statement with an error, but keeps the rows before it, so there is no
 * journal. Use it only where the whole transaction is rolled back on error.
 */
export const MULTI_ROW_INSERT = 'INSERT OR FAIL INTO';

/**
 * `INSERT OR FAIL INTO <into> VALUES <row>, <row>, …` with `rows` rows (see MULTI_ROW_INSERT),
 * prepared once per row count and kept in `made`.
 */
export function multiRowInsert(
  db: Db,
  made: Map<number, Statement>,
  into: string,
  row: string,
  rows: number,
): Statement {
  let stmt = made.get(rows);
  if (!stmt) {
    stmt = db.prepare(`${MULTI_ROW_INSERT} ${into} VALUES ${Array.from({ length: rows }, () => row).join(', ')}`);
    made.set(rows, stmt);
  }
  return stmt;
}

/**
 * Rows written with one multi-row insert (see MULTI_ROW_INSERT): push a row's values onto
 * {@link values} in column order, then call {@link added}, which writes them at once — or, from
 * {@link hold} until {@link release}, only once `limit` rows are held, so many appends share one
 * statement. {@link write} writes what is held now (before a read of the table), and {@link drop}
 * forgets it and stops holding (the caller is rolling the transaction back). The block writer holds
 * a batch's edge rows this way, and the Merkle log its node rows.
 */
export class HeldRows {
  /** The held rows' values, flat: row after row, each in column order. */
  values: (number | Uint8Array)[] = [];
  readonly #db: Db;
  readonly #into: string;
  readonly #row: string;
  readonly #width: number;
  readonly #full: number;
  readonly #made = new Map<number, Statement>();
  #holding = false;

  /** `into`: table and columns, as `name (a, b)`; `row`: one row's placeholders, as `(?, ?)`. */
  constructor(db: Db, into: string, row: string, limit: number) {
    this.#db = db;
    this.#into = into;
    this.#row = row;
    this.#width = row.split('?').length - 1;
    this.#full = limit * this.#width;
  }

  /** From now until {@link release} or {@link drop}, {@link added} writes only once `limit` rows are held. */
  hold(): void {
    this.#holding = true;
  }

  /** Writes the held rows and stops holding. */
  release(): void {
    this.#holding = false;
    this.write();
  }

  /** Call after pushing rows: writes them, unless holding fewer than `limit`. */
  added(): void {
    if (!this.#holding || this.values.length >= this.#full) this.write();
  }

  /** Writes the held rows, if any, with one statement. */
  write(): void {
    const values = this.values;
    if (values.length === 0) return;
    this.values = [];
    multiRowInsert(this.#db, this.#made, this.#into, this.#row, values.length / this.#width).run(...values);
  }

  /** Forgets the held rows and stops holding. */
  drop(): void {
    this.#holding = false;
    this.values = [];
  }
}

/**
 * Page size of a new archive database. Block hashes, chunk ids and path keys are random, so every
 * transaction dirties pages all over four indexes, and SQLite writes each dirty page to the WAL as
 * two write() calls (frame header, page). With 4 KiB pages, storing the 500 MB bench corpus made
 * ~100,000 pwrites (30,000 WAL frames, 120 MB), and the commits' writes were ~7 % of the main
 * thread's time. With 32 KiB pages: ~23,000 pwrites, and the store took 3–5 % less time (six
 * rounds of 4, 16, 32 and 64 KiB builds in turn: 32 KiB faster than 4 KiB in every round, median
 * 0.96; 16 KiB 0.97, 64 KiB no better than 32). Lookups at a million blocks stay within their
 * targets (docs/BENCHMARKS.md, run AB).
 */
export const PAGE_SIZE = 32_768;

export class SchemaVersionError extends Error {
  override readonly name = 'SchemaVersionError';
  readonly code = 'ERR_SCHEMA_VERSION';
}

export interface OpenDbInit {
  /** Open read-only (no migrations, no writes). Default false. */
  readonly readonly?: boolean;
  /** Migrations to apply; defaults to all of Pakit's. */
  readonly migrations?: readonly Migration[];
}

/**
 * SQL functions of our own, on every connection. `pakit_lower(text)` lower-cases as JavaScript's
 * toLowerCase does (SQLite's lower() folds ASCII only): migration 003 fills `sync_latest.folded`
 * with it, and the sync writes the same folding from JavaScript.
 */
export function registerFunctions(db: Db): void {
  db.function('pakit_lower', { deterministic: true }, (s: unknown) => String(s).toLowerCase());
}

/**
 * Opens the archive database in WAL mode so readers (the CLI) never block the writer (sync).
 * synchronous=NORMAL: a crash loses at most the last transactions, never consistency.
 */
export function openDb(file: string, init: OpenDbInit = {}): Db {
  const db = new Database(file, { readonly: init.readonly ?? false, fileMustExist: init.readonly ?? false });
  tuneConnection(db);
  registerFunctions(db);
  if (!init.readonly) {
    // Takes effect only while the file is still empty (a new archive); an existing one keeps the
    // page size it was made with (changing it would take a VACUUM).
    db.pragma(`page_size = ${PAGE_SIZE}`);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    migrate(db, init.migrations ?? migrations);
  } else {
    const have = db.pragma('user_version', { simple: true }) as number;
    const want = (init.migrations ?? migrations).at(-1)!.version;
    if (have !== want) throw new SchemaVersionError(`archive schema is version ${have}, this pakit reads ${want}`);
  }
  return db;
}

const readSnapshots = new WeakSet<Db>();
/** BEGIN and COMMIT prepared once per connection (exec would parse them at every snapshot). */
const txnStatements = new WeakMap<Db, { begin: Database.Statement; commit: Database.Statement }>();

/**
 * Whether `db` is in a transaction opened by {@link inSnapshot}: every row it reads is committed
 * and stays so, so caches may keep what it reads (blocks are never written in one).
 */
export function inReadSnapshot(db: Db): boolean {
  return readSnapshots.has(db);
}

/**
 * Runs `fn` inside one read transaction, unless the connection is already in a transaction (then
 * it simply runs). Outside a transaction every statement takes and drops SQLite's WAL read lock:
 * two `fcntl` calls and an `fstat`, most of a 10 µs lookup on this kind of machine. Inside one,
 * each lookup is ~1.5 µs, and all of `fn`'s reads see the same committed state — what a proof, a
 * page of blocks or an integrity check needs when another process may commit in between. `fn` must
 * be synchronous (a promise would outlive the transaction); writes in it commit at its end, as they
 * would have without it.
 */
export function inSnapshot<T>(db: Db, fn: () => T): T {
  if (db.inTransaction) return fn();
  let txn = txnStatements.get(db);
  if (!txn) txnStatements.set(db, (txn = { begin: db.prepare('BEGIN'), commit: db.prepare('COMMIT') }));
  txn.begin.run();
  readSnapshots.add(db);
  let result: T;
  try {
    result = fn();
  } finally {
    readSnapshots.delete(db);
    // COMMIT even when `fn` threw: a write that completed in it (its own nested transaction) would
    // have committed without the snapshot, so it does with it.
    if (db.inTransaction) txn.commit.run();
  }
  if (result instanceof Promise) throw new TypeError('inSnapshot: fn must be synchronous');
  return result;
}

/** Applies every migration newer than the database's user_version, each in its own transaction. */
export function migrate(db: Db, list: readonly Migration[]): void {
  registerFunctions(db);
  const have = db.pragma('user_version', { simple: true }) as number;
  const newest = list.at(-1)?.version ?? 0;
  if (have > newest)
    throw new SchemaVersionError(`archive schema is version ${have}, newer than this pakit (${newest})`);
  for (const m of list) {
    if (m.version <= have) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    }).immediate();
  }
}
