// Runs in a worker thread started by WalCheckpointer: its own connection to the archive database,
// copying committed WAL frames back into the database file while the writer goes on writing.
import Database from 'better-sqlite3';
import { statSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import type { WalWorkerInit } from './wal-checkpointer.js';

const { file, intervalMs, busyIntervalMs, truncateAfterIdleMs } = workerData as WalWorkerInit;
const db = new Database(file, { fileMustExist: true });
db.pragma('busy_timeout = 1000');

interface CheckpointResult {
  readonly busy: number;
  readonly log: number;
  readonly checkpointed: number;
}

let lastLog = -1;
let unchangedSince = Date.now();
let lastCheckpoint = 0;
let lastWal = '';

/** The WAL file's size and modification time: they move whenever the writer commits. */
function walState(): string {
  const st = statSync(`${file}-wal`, { bigint: true, throwIfNoEntry: false });
  return st ? `${st.size}:${st.mtimeNs}` : '';
}

// PASSIVE never blocks the writer or readers: it copies what no reader still needs and returns.
// `now`: the writer asked for a copy at once (see WalCheckpointer.soon).
const step = (now = false): void => {
  const at = Date.now();
  // While the writer keeps committing, copy at most every busyIntervalMs: each checkpoint copies
  // every page dirtied since the last one, and a bulk store dirties most of the database between
  // two ticks (see WalCheckpointer.start). Once the WAL stops moving, copy at the next tick.
  const wal = walState();
  const writing = wal !== lastWal;
  lastWal = wal;
  if (!now && writing && at - lastCheckpoint < busyIntervalMs) return;
  lastCheckpoint = at;
  const [r] = db.pragma('wal_checkpoint(PASSIVE)') as CheckpointResult[];
  if (!r || r.log <= 0) return;
  if (r.log !== lastLog) {
    lastLog = r.log;
    unchangedSince = at;
    return;
  }
  // Everything copied and no commit for a while: give the file's space back. TRUNCATE takes the
  // write lock, so try it without waiting (busy_timeout 0) and only when the writer is idle.
  if (r.busy === 0 && r.checkpointed === r.log && at - unchangedSince >= truncateAfterIdleMs) {
    db.pragma('busy_timeout = 0');
    try {
      db.pragma('wal_checkpoint(TRUNCATE)');
    } finally {
      db.pragma('busy_timeout = 1000');
    }
    lastLog = -1;
  }
};
const timer = setInterval(step, intervalMs);

parentPort!.on('message', (msg: 'stop' | 'now') => {
  if (msg === 'now') {
    step(true);
    return;
  }
  if (msg !== 'stop') return;
  clearInterval(timer);
  // The writer is done (WalCheckpointer.close): copy what is left and empty the WAL here. The
  // writer's own close, as the last connection, would do both on its thread — and deleting a WAL
  // of 120 MB (the corpus store's) takes 80 ms there, the kernel freeing its cached pages.
  // Readers must let go of the WAL first: the ingest workers' connections close meanwhile, but
  // another process's reader may hold it for long, and closing must not wait on that.
  db.pragma('busy_timeout = 100');
  try {
    db.pragma('wal_checkpoint(TRUNCATE)');
  } catch {
    // Busy or failed: the writer's close copies and removes the WAL as it always could.
  }
  db.close();
  parentPort!.close();
});
