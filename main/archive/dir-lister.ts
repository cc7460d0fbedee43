import { readdirSync, type Dirent } from 'node:fs';
import { readdir } from 'node:fs/promises';

/**
 * A listing in place that takes longer than this switches the walk to the thread pool. A cached
 * listing of a thousand names takes ~0.5 ms here, one read from a disk a few ms, and one of a large
 * directory on a slow disk can take far longer. On this busy 2-core machine a listing in place also
 * took 10–45 ms at times only because the thread lost its CPU meanwhile, which is why the limit is
 * the event loop's own (a stall is a task over 50 ms), not a few ms.
 */
export const SLOW_LIST_MS = 50;

/**
 * Lists directories for one walk: synchronously, through the thread pool from the first listing
 * that took over SLOW_LIST_MS. Each listing through the pool (fs/promises) is a round trip to another
 * thread and back, and storing the 3,500 directories of the bench corpus that way took ~4 % more CPU
 * than listing them in place (both builds at once, five runs: CPU ratio 0.949–0.994, median 0.96).
 * In place, a listing holds the main thread while it runs: a walk of a cold tree pays a few ms per
 * directory, and at most one listing stalls the event loop past SLOW_LIST_MS.
 */
export class DirLister {
  #sync = true;

  constructor(private readonly now: () => number = () => performance.now()) {}

  /** Whether listings are still made in place. */
  get sync(): boolean {
    return this.#sync;
  }

  async list(dir: string): Promise<Dirent[]> {
    if (!this.#sync) return readdir(dir, { withFileTypes: true });
    const started = this.now();
    const entries = readdirSync(dir, { withFileTypes: true });
    if (this.now() - started > SLOW_LIST_MS) this.#sync = false;
    return entries;
  }
}
