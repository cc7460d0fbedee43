// Child process for the large-file and event-loop sections: stores the given paths into an archive
// and prints one JSON line with its own peak RSS (VmHWM: the kernel's high-water mark for the whole
// process, worker threads included) and the main thread's event-loop delay while it ingested.
import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Archive } from '../main/archive/archive.js';
import { watchStalls } from './stall-watch.js';
import { mainThreadCpuSeconds, round } from './measure.js';

const [dir, ...paths] = process.argv.slice(2);
if (!dir || paths.length === 0) {
  process.stderr.write('usage: ingest-probe DATA_DIR PATH...\n');
  process.exit(2);
}
const archive = await Archive.open({ dir });
const h = monitorEventLoopDelay({ resolution: 5 });
h.enable();
const stalls = watchStalls(50);
const cpu0 = process.cpuUsage();
const main0 = mainThreadCpuSeconds();
const t0 = process.hrtime.bigint();
const summary = await archive.store(paths);
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
const main1 = mainThreadCpuSeconds();
const mainCpu = main0 === null || main1 === null ? null : round(main1 - main0, 2);
const cpu = process.cpuUsage(cpu0);
h.disable();
const stallReport = stalls.stop();
archive.checkpoint();
await archive.close();
const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
const bytes = summary.results.filter((r) => r.kind === 'file').reduce((n, r) => n + r.size, 0);
process.stdout.write(
  `${JSON.stringify({
    seconds,
    bytes,
    files: summary.results.length,
    problems: summary.problems.length,
    // CPU time while storing: the whole process (every thread), and the main thread alone.
    cpuSeconds: { process: (cpu.user + cpu.system) / 1e6, mainThread: mainCpu },
    peakRssMB: hwm ? Number(hwm[1]) / 1000 : null,
    eventLoopDelayMs: {
      p50: h.percentile(50) / 1e6,
      p99: h.percentile(99) / 1e6,
      max: h.max / 1e6,
    },
    stalls: stallReport,
    loadAvg: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number),
  })}\n`,
);
