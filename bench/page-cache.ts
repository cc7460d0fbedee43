// Every tool starts its first backup with the corpus in the page cache.
//
// borg drops the page cache of every file it reads (posix_fadvise DONTNEED, so a backup does not
// evict the user's working set): after `borg create`, `fincore` finds 0.09 MB of the 500 MB corpus
// cached, against all of it before. Whatever runs next reads the corpus from disk: on this VM Pakit's
// first store took 12.35–13.37 s in five runs straight after borg, and 7.94–10.24 s in four warm.
// Earlier bench runs timed Pakit after the previous run's borg and borg after Pakit's warm reads,
// so reading the corpus once before each tool's first backup is what makes the runs comparable.
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readdirSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { round } from './measure.js';

export interface Warmed {
  readonly files: number;
  readonly bytes: number;
  /** Time to read it all: a few seconds when it came from disk, well under one when it was cached. */
  readonly seconds: number;
  /** Time `sync` took to write out what earlier runs left dirty in the page cache. */
  readonly flushSeconds: number;
}

/** Every regular file under `dir`, depth first in name order (the order a store walks); symlinks are not followed. */
export function regularFilesUnder(dir: string, out: string[] = []): string[] {
  const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) regularFilesUnder(p, out);
    else if (e.isFile()) out.push(p);
  }
  return out;
}

/**
 * Reads every regular file under `dir` once (symlinks are not followed), so it sits in the page
 * cache, then writes out whatever is dirty (`sync`): the repository an earlier run wrote (borg's
 * 196 MB, Pakit's 191 MB) is otherwise written back by the kernel's flusher threads ~30 s later,
 * in the middle of a later timed run, on a core a tool using both cores would have used. A tool
 * on one core had the other core to spare for it.
 */
export function warmPageCache(dir: string): Warmed {
  const started = process.hrtime.bigint();
  const buf = Buffer.allocUnsafe(2 ** 20);
  const files = regularFilesUnder(dir);
  let bytes = 0;
  for (const p of files) {
    const fd = openSync(p, 'r');
    try {
      for (let n = readSync(fd, buf); n > 0; n = readSync(fd, buf)) bytes += n;
    } finally {
      closeSync(fd);
    }
  }
  const read = process.hrtime.bigint();
  spawnSync('sync', { stdio: 'ignore' });
  const flushed = process.hrtime.bigint();
  return {
    files: files.length,
    bytes,
    seconds: round(Number(read - started) / 1e9, 2),
    flushSeconds: round(Number(flushed - read) / 1e9, 2),
  };
}
