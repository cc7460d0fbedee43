// The floor under any store of the corpus: the work itself, on one thread, with nothing around it.
// Every file is opened, fstat'ed, read whole and closed; cut by our GearChunker with the default
// parameters; every chunk hashed; chunks under GROUP_CHUNK_MAX compressed in groups of
// DEFAULT_GROUP_BYTES and the others alone, at the default zstd level — what the ingest workers do,
// without the DAG, the index, the pack files, the messages between threads, or any commit. A first
// pass does only the file syscalls. Pakit's store minus this is what its bookkeeping costs.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { ChunkEncoder } from '../main/store/compression.js';
import { GearChunker } from '../main/store/gear-chunker.js';
import { DEFAULT_CHUNKER, DEFAULT_ZSTD_LEVEL } from '../main/store/index.js';
import { DEFAULT_GROUP_BYTES, GROUP_CHUNK_MAX } from '../main/store/types.js';
import { sha256Digest } from '../main/util/sha256.js';
import type { Section } from './context.js';
import { progress, round } from './measure.js';
import { regularFilesUnder } from './page-cache.js';

interface Pass {
  readonly seconds: number;
  readonly cpuSeconds: number;
}

function timed(fn: () => void): Pass {
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  fn();
  const cpu = process.cpuUsage(cpu0);
  return {
    seconds: round(Number(process.hrtime.bigint() - t0) / 1e9),
    cpuSeconds: round((cpu.user + cpu.system) / 1e6),
  };
}

export const floorSection: Section = async (ctx) => {
  const corpus = await ctx.corpus();
  const files = regularFilesUnder(corpus.dir);
  let buf = Buffer.allocUnsafe(8 << 20);
  /** Reads the whole file into `buf` (grown when needed); returns its length. */
  const readWhole = (file: string): number => {
    const fd = openSync(file, 'r');
    try {
      const size = Number(fstatSync(fd, { bigint: true }).size);
      if (size > buf.length) buf = Buffer.allocUnsafe(size);
      let n = 0;
      for (;;) {
        const k = readSync(fd, buf, n, buf.length - n, null);
        n += k;
        if (k === 0 || n === buf.length) return n;
      }
    } finally {
      closeSync(fd);
    }
  };

  progress(`floor: ${files.length} files, syscalls only`);
  let bytes = 0;
  const io = timed(() => {
    for (const f of files) bytes += readWhole(f);
  });

  progress('floor: chunk, hash and compress, one thread');
  const encoder = new ChunkEncoder(DEFAULT_ZSTD_LEVEL);
  const group = Buffer.allocUnsafe(DEFAULT_GROUP_BYTES + GROUP_CHUNK_MAX);
  let out = Buffer.allocUnsafe(ChunkEncoder.bound(group.length));
  let grouped = 0;
  let chunks = 0;
  let stored = 0;
  const work = timed(() => {
    for (const f of files) {
      const data = buf.subarray(0, readWhole(f));
      const chunker = new GearChunker(DEFAULT_CHUNKER);
      let start = 0;
      for (const end of [...chunker.push(data), ...chunker.finish()]) {
        const raw = data.subarray(start, end);
        start = end;
        sha256Digest(raw);
        chunks++;
        if (raw.length < GROUP_CHUNK_MAX) {
          raw.copy(group, grouped);
          grouped += raw.length;
          if (grouped >= DEFAULT_GROUP_BYTES) {
            stored += encoder.frameInto(group.subarray(0, grouped), out);
            grouped = 0;
          }
        } else {
          if (out.length < ChunkEncoder.bound(raw.length)) out = Buffer.allocUnsafe(ChunkEncoder.bound(raw.length));
          stored += encoder.encodeInto(raw, out).length;
        }
      }
    }
    if (grouped > 0) stored += encoder.frameInto(group.subarray(0, grouped), out);
  });
  return {
    files: files.length,
    bytes,
    chunks,
    storedBytes: stored,
    fileSyscallsOnly: { ...io, microsPerFile: round((io.cpuSeconds * 1e6) / files.length, 1) },
    chunkHashCompress: work,
    describe:
      'one thread: open, fstat, read and close every corpus file, GearChunker cuts, SHA-256, zstd (small chunks in groups) — no DAG, index, packs or commits',
  };
};
