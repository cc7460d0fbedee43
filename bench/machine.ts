// The machine the figures were measured on: without it a throughput number means nothing.
import { existsSync, readFileSync } from 'node:fs';
import { cpus, freemem, loadavg, release, totalmem } from 'node:os';
import type { Section } from './context.js';
import { measureCoreSpeed } from './core-speed.js';
import { measurePauses } from './cpu-pauses.js';
import { gnuTimeAvailable, round, runQuiet, which } from './measure.js';

async function version(cmd: string, args: string[]): Promise<string | null> {
  if (!(await which(cmd))) return null;
  return runQuiet(cmd, args).catch((err: unknown) => `error: ${String(err)}`);
}

function osRelease(): string | null {
  if (!existsSync('/etc/os-release')) return null;
  const m = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(readFileSync('/etc/os-release', 'utf8'));
  return m ? m[1] : null;
}

function cpuinfoField(name: string): string | null {
  try {
    return new RegExp(`^${name}\\s*:(.*)$`, 'm').exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? null;
  } catch {
    return null;
  }
}

/** CPU features that change hashing and compression speed (SHA-NI for SHA-256, AVX2 for zstd). */
function cpuFlags(): string[] {
  const have = new Set((cpuinfoField('flags') ?? '').split(/\s+/));
  return ['sha_ni', 'aes', 'avx2', 'avx512f'].filter((f) => have.has(f));
}

async function filesystemOf(dir: string): Promise<string | null> {
  // `df --output` names the filesystem type; the tools' speed depends on it (ext4 vs tmpfs vs overlay).
  return runQuiet('df', ['--output=fstype,source', dir])
    .then((out) => out.split('\n')[1]?.trim().replace(/\s+/g, ' ') ?? null)
    .catch(() => null);
}

export const machineSection: Section = async (ctx) => {
  const cpu = cpus();
  return {
    cpuModel: cpu[0]?.model ?? 'unknown',
    cores: cpu.length,
    // os.cpus() reports 0 MHz inside this VM; /proc/cpuinfo has the figure.
    cpuMHz: Number(cpuinfoField('cpu MHz')) || null,
    cpuFlags: cpuFlags(),
    ramGB: round(totalmem() / 1e9, 1),
    freeRamGBAtStart: round(freemem() / 1e9, 1),
    // Others share this machine; a high load average explains noisy timings.
    loadAverageAtStart: loadavg().map((l) => round(l, 2)),
    // How often a thread loses the CPU for a moment (cpu-pauses.ts): it sets a floor under every p99.
    cpuPausesAtStart: measurePauses(),
    // Each core's time for the same fixed work, one after the other and all at once (core-speed.ts).
    coreSpeedAtStart: await measureCoreSpeed(),
    kernel: release(),
    os: osRelease(),
    node: process.version,
    workDirFilesystem: await filesystemOf(ctx.workDir),
    borg: await version('borg', ['--version']),
    restic: await version('restic', ['version']),
    peakRssSource: gnuTimeAvailable() ? 'GNU time -v (wait4 rusage)' : '/proc/<pid>/status VmHWM polling',
    // borg drops what it reads from the page cache, and this VM's DAMON pages out what nobody touched
    // for about a minute: every first backup is preceded by a read of the whole corpus (page-cache.ts).
    pageCache:
      'warm and clean: the whole corpus is read, then sync, just before every first backup (pageCacheWarmed in each result)',
  };
};
