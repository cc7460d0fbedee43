// Bounded memory and a responsive main thread: a 2 GiB file ingested by a fresh process (peak RSS
// and event-loop delay measured inside it), and the event-loop delay while the corpus ingests.
import { createWriteStream, existsSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { once } from 'node:events';
import { envNumber, type Section } from './context.js';
import { mbps, progress, round, runQuiet } from './measure.js';

async function makeBigFile(file: string, bytes: number): Promise<void> {
  if (existsSync(file) && statSync(file).size === bytes) return;
  progress(`large-file: writing ${bytes} bytes to ${file}`);
  // Half compressible text, half random, in 1 MiB pieces: neither all-dedup nor all-incompressible.
  const text = Buffer.from('land registry deed parcel owner district record '.repeat(22_000)).subarray(0, 1 << 20);
  const out = createWriteStream(file);
  for (let written = 0; written < bytes; written += 1 << 20) {
    const piece = (written >> 20) % 2 === 0 ? randomBytes(1 << 20) : text;
    if (!out.write(piece.subarray(0, Math.min(1 << 20, bytes - written)))) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

async function probe(ctx: Parameters<Section>[0], name: string, paths: string[]) {
  const data = join(ctx.workDir, 'runs', name);
  await rm(data, { recursive: true, force: true });
  const stdout = await runQuiet(process.execPath, [
    join(ctx.repoRoot, 'dist', 'bench', 'ingest-probe.js'),
    data,
    ...paths,
  ]);
  if (!ctx.keep) await rm(data, { recursive: true, force: true });
  const r = JSON.parse(stdout.trim().split('\n').at(-1)!);
  return { ...r, MBps: mbps(r.bytes, r.seconds), seconds: round(r.seconds) };
}

export const largeFileSection: Section = async (ctx) => {
  const bytes = envNumber('PAKIT_BENCH_BIGFILE_MB', 2048) * (1 << 20);
  const file = join(ctx.workDir, 'cache', `big-${bytes}.bin`);
  await makeBigFile(file, bytes);
  progress('large-file: ingesting in a fresh process');
  return { fileBytes: bytes, ...(await probe(ctx, 'large-file', [file])) };
};

export const eventLoopSection: Section = async (ctx) => {
  const corpus = await ctx.corpus();
  progress('event-loop: ingesting the corpus in a fresh process');
  return probe(ctx, 'event-loop', [corpus.dir]);
};
