import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import type { FileInfo } from './types.js';

/** Where an ingest worker's job reads its input from: a file (below) or stream bytes from the pool. */
export interface Reader {
  read(dest: Uint8Array): number | Promise<number>;
  /**
   * For a file: its stat as opened. No second fstat after reading: a change while it was read is
   * told by its mtime, which the caller compares with when the store began (racy files are not
   * trusted; see ingestFile in store-ops.ts), and by the byte count.
   */
  readonly opened?: FileInfo;
  close(): void;
}

/**
 * An ingest worker's reader of one file. Synchronous reads: the worker thread has nothing else to do
 * meanwhile, and a folder of small files would otherwise pay a thread-pool round trip per open, read
 * and close. `yieldTurn` lets the worker's event loop run between two reads of a long file.
 */
export function fileReader(path: string, yieldTurn: () => Promise<void>): Reader {
  // Never through a symlink, and never blocked by a FIFO put where a file was: the caller saw a
  // regular file here, and the stat of what was opened must say so too.
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  let opened: FileInfo;
  try {
    const st = fstatSync(fd, { bigint: true });
    if (!st.isFile()) {
      throw Object.assign(new Error(`${path} is not a regular file, directory or symlink; skipped`), {
        code: 'ESPECIAL',
      });
    }
    opened = { size: st.size, mtimeNs: st.mtimeNs, ino: st.ino, mode: st.mode };
  } catch (e) {
    closeSync(fd);
    throw e;
  }
  let first = true;
  let total = 0n;
  let ended = false;
  return {
    read: async (dest) => {
      // A short read that reached the size the file had when opened is its end: no read() to hear
      // so, and no turn of the event loop (most files are read whole by the first read). A file that
      // grew meanwhile is read on, and its stat afterwards tells the caller it changed.
      if (ended) return 0;
      // Let acks, aborts and the like in between two reads (the rest of the work never yields);
      // not before the first, so a small file costs no extra turn of the event loop.
      if (!first) await yieldTurn();
      first = false;
      const n = readSync(fd, dest, 0, dest.length, null);
      total += BigInt(n);
      ended = n < dest.length && total === opened.size;
      return n;
    },
    opened,
    close: () => closeSync(fd),
  };
}
