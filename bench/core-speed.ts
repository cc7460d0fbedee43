// How fast each core runs the same fixed piece of work (`taskset -c N`): one core at a time, then
// all at once.
//
// On this VM the two cores are not equally fast, and not steadily so: at a quiet moment on
// 2026-12-03, core 1 took 9 % longer than core 0 to hash and 30 % longer for strided memory work
// (see WORK); both cores at once were within 1–3 % of that, so they did not slow each other then.
// A one-thread backup (borg) keeps its speed if the scheduler leaves it on the faster core; a store
// that needs both cores (Pakit) runs at the slower one's pace, and pays again if running both at
// once slows each (a host that shares them). ingest-pairs records both before every pair, so a
// slow pair can be told from a slow or shared core.
import { spawn } from 'node:child_process';
import { cpus } from 'node:os';
import { round } from './measure.js';

/**
 * The kinds of work a store does, the same every time: SHA-256 over a 64 KiB buffer (the chunk ids),
 * then reads and writes strided over 8 MiB (memory and caches, as compression and the heaps use
 * them) — ~100 ms on this VM. A loop of dependent integer arithmetic alone saw no difference
 * between the cores (330 ms on each) while these two parts took 9 % and 30 % longer on core 1.
 */
const WORK = `const { createHash } = require('node:crypto');
const t = performance.now();
let x = 0;
const b = Buffer.alloc(65536, 7);
for (let i = 0; i < 1500; i++) x ^= createHash('sha256').update(b).digest()[0];
const a = new Int32Array(1 << 21);
for (let r = 0; r < 20; r++) for (let i = 0; i < a.length; i += 16) { a[i] = (a[i] + r) | 0; x ^= a[(i * 7) & (a.length - 1)]; }
process.stdout.write(String(performance.now() - t) + ' ' + (x & 1));`;

export type CoreSpeed =
  | {
      /** Each core alone, cores in order. */
      readonly ms: readonly number[];
      /**
       * Each core while every core runs the work at once. Above `ms` by more than a few % means the
       * cores slow each other down (shared by the host): what a store on both cores then pays and a
       * one-thread backup does not.
       */
      readonly together: readonly number[];
    }
  | { readonly unavailable: string };

function timedOn(core: number, env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn('taskset', ['-c', String(core), process.execPath, '-e', WORK], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = Number(out.split(' ')[0]);
      if (code === 0 && Number.isFinite(ms) && ms > 0) resolve(round(ms, 1));
      else reject(new Error(`taskset -c ${core} exited with ${code}: ${err.trim().slice(-300)}`));
    });
  });
}

/**
 * Milliseconds each core took for WORK, cores in order, alone and then all at once; never throws
 * (a missing taskset is reported).
 */
export async function measureCoreSpeed(env: NodeJS.ProcessEnv = process.env): Promise<CoreSpeed> {
  const ms: number[] = [];
  const cores = cpus().map((_, core) => core);
  try {
    for (const core of cores) ms.push(await timedOn(core, env));
    const together = await Promise.all(cores.map((core) => timedOn(core, env)));
    return { ms, together };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return { unavailable: e.code === 'ENOENT' ? 'taskset not found (util-linux)' : e.message };
  }
}
