// Runs in a worker thread started by WalCheckpointer: its own connection to the archive database,
// copying committed WAL frames back into the database file while the writer goes on writing.
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';

interface Init {
  readonly file: string;
  readonly intervalMs: number;
}

const { file, intervalMs } = workerData as Init;
const db = new Database(file, { fileMustExist: true });
db.pragma('busy_timeout = 1000');

// PASSIVE never blocks the writer or readers: it copies what no reader still needs and returns.
const step = (): void => {
  db.pragma('wal_checkpoint(PASSIVE)');
};
const timer = setInterval(step, intervalMs);

parentPort!.on('message', (msg: 'stop') => {
  if (msg !== 'stop') return;
  clearInterval(timer);
  db.close();
  parentPort!.close();
});
