// Runs in a worker thread started by a tree restore (restore-tree.ts): opens the archive read-only
// and writes the batches of files it is sent, each small file's reads in one read snapshot.
import { parentPort, workerData } from 'node:worker_threads';
import { Archive } from './archive.js';
import { writeTreeFileSync, type TreeFile } from './read-ops.js';
import {
  errorData,
  RUN_FILE_BYTES,
  writeSmallRun,
  type FromRestoreWorker,
  type RestoreWorkerInit,
  type ToRestoreWorker,
} from './restore-tree.js';

const port = parentPort!;
const { dir } = workerData as RestoreWorkerInit;
const opened: Promise<Archive | { error: unknown }> = Archive.open({ dir, readonly: true }).then(
  (a) => {
    port.postMessage({ t: 'ready' } satisfies FromRestoreWorker);
    return a;
  },
  (error: unknown) => {
    port.postMessage({ t: 'unavailable', error: errorData(error) } satisfies FromRestoreWorker);
    return { error };
  },
);

port.on('message', (m: ToRestoreWorker) => {
  void opened.then((a) => {
    let reply: FromRestoreWorker;
    if (!(a instanceof Archive)) reply = { t: 'failed', id: m.id, error: errorData(a.error) };
    else {
      let files = 0;
      let bytes = 0;
      try {
        // Small files share a read snapshot; a large one reads outside any, so no snapshot holds
        // the writer's checkpoints back for the length of a big file.
        const done = (f: TreeFile): void => {
          files++;
          bytes += f.size;
        };
        for (let i = 0; i < m.files.length;) {
          if (m.files[i]!.size > RUN_FILE_BYTES) {
            writeTreeFileSync(a.ctx, m.files[i]!);
            done(m.files[i++]!);
          } else i = writeSmallRun(a.ctx, m.files, i, () => true, done);
        }
        reply = { t: 'done', id: m.id, files, bytes };
      } catch (e) {
        reply = { t: 'failed', id: m.id, error: errorData(e) };
      }
    }
    port.postMessage(reply);
  });
});
