// Runs one external command and measures what a user would feel: wall-clock time and peak memory.
// Units everywhere in the bench: MB = 10^6 bytes (throughput and RSS alike), seconds of wall clock.
//
// Peak RSS comes from GNU time (`/usr/bin/time -v`), which reads it from wait4()'s rusage, so it
// is exact and includes every thread of the child. Where GNU time is missing we fall back to
// polling /proc/<pid>/status for VmHWM (the kernel's own high-water mark, so a late poll still
// sees the peak; only a child that exits between polls loses its final readings).
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';

const GNU_TIME = '/usr/bin/time';
const T0 = process.hrtime.bigint();

/**
 * User + system CPU time of this process's main thread, in seconds (its task's stat; clock ticks
 * are 1/100 s on Linux), or null where /proc is missing. The process's own figure counts its worker
 * threads too.
 */
export function mainThreadCpuSeconds(): number | null {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

/** Progress for humans on stderr (stdout carries only the final JSON), stamped with elapsed time. */
export function progress(message: string): void {
  const t = (Number(process.hrtime.bigint() - T0) / 1e9).toFixed(1).padStart(6);
  process.stderr.write(`[bench ${t}s] ${message}\n`);
}

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Written to stderr as progress, so stdout stays one clean JSON document. */
  label: string;
}

export interface Measured {
  seconds: number;
  peakRssMB: number | null;
  userSeconds: number | null;
  systemSeconds: number | null;
  /** 1-minute load average when the command started: a busy shared machine explains slow runs. */
  loadAverage1m: number;
  stdout: string;
  stderr: string;
}

export class CommandError extends Error {
  constructor(
    message: string,
    readonly exitCode: number | null,
    readonly stderrTail: string,
  ) {
    super(message);
  }
}

export function gnuTimeAvailable(): boolean {
  return existsSync(GNU_TIME);
}

function round(n: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

function parseGnuTime(text: string): Pick<Measured, 'peakRssMB' | 'userSeconds' | 'systemSeconds'> {
  const num = (re: RegExp): number | null => {
    const m = re.exec(text);
    return m ? Number(m[1]) : null;
  };
  const rssKb = num(/Maximum resident set size \(kbytes\): (\d+)/);
  return {
    peakRssMB: rssKb === null ? null : round((rssKb * 1024) / 1e6, 1),
    userSeconds: num(/User time \(seconds\): ([\d.]+)/),
    systemSeconds: num(/System time \(seconds\): ([\d.]+)/),
  };
}

function readVmHwmKb(pid: number): number | null {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null; // the process already exited
  }
}

/** Every descendant of `pid` (GNU time's child, and anything that one spawned), deepest first. */
function descendants(pid: number): number[] {
  let kids: number[] = [];
  try {
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      const text = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim();
      if (text) kids = kids.concat(text.split(/\s+/).map(Number));
    }
  } catch {
    // gone already
  }
  return kids.flatMap((k) => [...descendants(k), k]);
}

/** A hung tool must not hang the bench: PAKIT_BENCH_TIMEOUT_S per command (default 30 min). */
function timeoutMs(): number {
  const raw = Number(process.env.PAKIT_BENCH_TIMEOUT_S ?? '');
  return (Number.isFinite(raw) && raw > 0 ? raw : 1800) * 1000;
}

/** Runs `cmd args`, resolving with timings; rejects with CommandError on a non-zero exit. */
export async function runMeasured(cmd: string, args: string[], opts: RunOptions): Promise<Measured> {
  const useTime = gnuTimeAvailable();
  const tmp = useTime ? await mkdtemp(join(tmpdir(), 'pakit-bench-time-')) : null;
  const timeFile = tmp ? join(tmp, 'time.txt') : null;
  const argv = timeFile ? ['-v', '-o', timeFile, cmd, ...args] : args;
  const exe = timeFile ? GNU_TIME : cmd;

  progress(`${opts.label}: ${cmd} ${args.join(' ')}`);
  const loadAverage1m = round(loadavg()[0], 2);
  const started = process.hrtime.bigint();
  const child = spawn(exe, argv, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (b: Buffer) => out.push(b));
  child.stderr.on('data', (b: Buffer) => err.push(b));

  let hwmKb = 0;
  const poll =
    !useTime && child.pid !== undefined
      ? setInterval(() => {
          const kb = readVmHwmKb(child.pid as number);
          if (kb !== null && kb > hwmKb) hwmKb = kb;
        }, 20)
      : null;

  let timedOut = false;
  const limit = timeoutMs();
  const timer = setTimeout(() => {
    timedOut = true;
    // Kill by pid, the measured command first (it sits under GNU time), then GNU time itself.
    for (const pid of child.pid !== undefined ? [...descendants(child.pid), child.pid] : []) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already exited
      }
    }
  }, limit);

  const exitCode = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve(code));
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  clearTimeout(timer);
  if (poll) clearInterval(poll);

  const stdout = Buffer.concat(out).toString('utf8');
  const stderr = Buffer.concat(err).toString('utf8');
  let usage: Pick<Measured, 'peakRssMB' | 'userSeconds' | 'systemSeconds'> = {
    peakRssMB: hwmKb > 0 ? round((hwmKb * 1024) / 1e6, 1) : null,
    userSeconds: null,
    systemSeconds: null,
  };
  if (timeFile && existsSync(timeFile)) usage = parseGnuTime(readFileSync(timeFile, 'utf8'));
  if (tmp) rmSync(tmp, { recursive: true, force: true });

  if (timedOut) {
    throw new CommandError(`${opts.label}: killed after ${limit / 1000} s (PAKIT_BENCH_TIMEOUT_S)`, null, '');
  }
  if (exitCode !== 0) {
    const tail = stderr.slice(-2000);
    throw new CommandError(
      `${opts.label}: \`${cmd} ${args.join(' ')}\` exited with ${exitCode}: ${tail}`,
      exitCode,
      tail,
    );
  }
  progress(`${opts.label}: ${round(seconds, 2)} s, peak RSS ${usage.peakRssMB ?? '?'} MB`);
  return { seconds: round(seconds), ...usage, loadAverage1m, stdout, stderr };
}

/** Runs a quick command (versions, du) without timing; returns trimmed stdout. */
export async function runQuiet(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (b: Buffer) => out.push(b));
  child.stderr.on('data', (b: Buffer) => err.push(b));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  const stdout = Buffer.concat(out).toString('utf8').trim();
  if (code !== 0) {
    const tail = Buffer.concat(err).toString('utf8').slice(-2000);
    throw new CommandError(`\`${cmd} ${args.join(' ')}\` exited with ${code}: ${tail}`, code, tail);
  }
  return stdout;
}

/** Apparent size in bytes of everything under `dir` (`du -sb`), the figure we compare across tools. */
export async function duBytes(dir: string): Promise<number> {
  const out = await runQuiet('du', ['-sb', dir]);
  return Number(out.split(/\s+/)[0]);
}

/** Whether an executable is on PATH (used to report "not installed" instead of crashing). */
export async function which(cmd: string): Promise<string | null> {
  try {
    return (await runQuiet('sh', ['-c', `command -v ${cmd}`])) || null;
  } catch {
    return null;
  }
}

export function mbps(bytes: number, seconds: number): number {
  return round(bytes / 1e6 / seconds, 1);
}

export { round };
