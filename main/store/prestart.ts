import { Worker } from 'node:worker_threads';

/**
 * Where the ingest worker script is. Worker threads need compiled JavaScript, but under vitest this
 * module is loaded from its .ts source; the test setup builds dist/ first, so map
 * `<root>/main/store/<module>.ts` to `<root>/dist/main/store/ingest-worker.js`.
 */
export function ingestWorkerUrl(moduleUrl: string = import.meta.url): URL {
  return moduleUrl.endsWith('.ts')
    ? new URL('../../dist/main/store/ingest-worker.js', moduleUrl)
    : new URL('./ingest-worker.js', moduleUrl);
}

interface Early {
  readonly worker: Worker;
  exited: boolean;
}

let early: Early | undefined;

/**
 * Starts one ingest worker thread before any archive is open; the first ingest pool made takes it
 * (takePrestarted) and sends it its settings. A worker thread takes ~115 ms to start here (Node's
 * own start in a new thread, then its modules), and the pool starts one at its first file: the CLI
 * had loaded its modules and opened the archive by ~240 ms, and the first worker was ready at ~400.
 * Started first thing, it boots on the other core meanwhile. Only one: two booting threads and the
 * main thread's module loading would share two cores. Unused, it keeps nothing alive.
 */
export function prestartIngestWorker(): void {
  if (early) return;
  const e: Early = { worker: new Worker(ingestWorkerUrl()), exited: false };
  e.worker.unref();
  e.worker.once('exit', () => (e.exited = true));
  // Until a pool takes it, a failure to start is no one's: the pool then starts a worker of its own.
  e.worker.on('error', () => {});
  early = e;
}

/** The prestarted worker, if one is waiting and still alive; each is handed out once. */
export function takePrestarted(): Worker | undefined {
  const e = early;
  early = undefined;
  return e && !e.exited ? e.worker : undefined;
}
