// Runs in a worker thread started by IdentityIndex: reads committed blocks from the archive and
// writes their identity entries (identity-file.ts), while the writer goes on appending.
import Database from 'better-sqlite3';
import { workerData } from 'node:worker_threads';
import {
  INDEXED,
  ROWS_FROM,
  STOP,
  WRITTEN,
  writeEntries,
  type IdentityWorkerInit,
  type KeyRow,
} from './identity-file.js';

const init = workerData as IdentityWorkerInit;
const slots = new Int32Array(init.shared);
// Rows are read once each, in seq order: SQLite's default page cache does, not the large one and
// the memory map of the writer's connection (tuneConnection).
const archive = new Database(init.archiveFile, { readonly: true, fileMustExist: true });
archive.pragma('busy_timeout = 5000');
const file = new Database(init.identityFile, { fileMustExist: true });
file.pragma('busy_timeout = 5000');
const rowsFrom = archive.prepare<[number, number], KeyRow>(ROWS_FROM);
let indexed = (file.prepare('SELECT indexed FROM state').pluck().get() as number | undefined) ?? 0;

try {
  while (Atomics.load(slots, STOP) === 0) {
    const written = Atomics.load(slots, WRITTEN);
    // Only committed rows are read: a block the writer has not committed yet (or rolls back) is
    // not seen here, and the writer keeps it in memory meanwhile.
    const rows = written > indexed ? rowsFrom.all(indexed, init.batch) : [];
    if (rows.length > 0) {
      indexed = writeEntries(file, rows);
      // The slot is 32 bits: past 2^31 - 1 blocks the writer keeps the newer ones in memory.
      Atomics.store(slots, INDEXED, Math.min(indexed, 2 ** 31 - 1));
    }
    // A pause between batches: the more each transaction writes, the fewer times each page of the
    // file is written (its keys land on random pages). Nothing to do: sleep until the writer appends.
    if (rows.length === 0 && written <= indexed) Atomics.wait(slots, WRITTEN, written, 1_000);
    else if (rows.length < init.batch) Atomics.wait(slots, STOP, 0, init.pauseMs);
  }
} finally {
  archive.close();
  file.close();
}
