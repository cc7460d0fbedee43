// Pakit measured exactly like borg and restic: through its CLI, as a separate process, so the
// figures include start-up, SQLite, hashing, compression and the final fsyncs, like theirs do.
//
//   node bin/pakit.js --data DIR store CORPUS          first store; last line `<snapshot>  <dir>/`
//   node bin/pakit.js --data DIR store CORPUS          unchanged second store (the fast path)
//   node bin/pakit.js --data DIR restore SNAP --to OUT  full restore of the folder snapshot
//   node bin/pakit.js --data DIR stats --json          the archive's own accounting
import { existsSync, readFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { BenchContext, Section } from './context.js';
import { warmPageCache } from './page-cache.js';
import { duBytes, progress, runMeasured, runQuiet } from './measure.js';
import type { ToolResult } from './tool-result.js';
import { failure, freshDir, megabytes, phase } from './tool-result.js';
import { verifyRestore } from './verify.js';

/** The folder snapshot is the last output line: `<hash>  <dir>/` (files come before it). */
export function snapshotFromStoreOutput(stdout: string): string {
  const lines = stdout.split('\n').filter((l) => l.trim() !== '');
  const last = lines.at(-1) ?? '';
  const m = /^(\S+)\s+(.*\/)$/.exec(last.trim());
  if (!m) throw new Error(`pakit store: expected a last line "<snapshot-hash>  <dir>/", got ${JSON.stringify(last)}`);
  return m[1];
}

function pakitVersion(repoRoot: string): string {
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version?: string };
  return `pakit ${pkg.version ?? '?'}`;
}

async function gitCommit(repoRoot: string): Promise<string | null> {
  // Read-only git queries: which source tree produced the numbers, and whether it was committed.
  const commit = await runQuiet('git', ['rev-parse', '--short', 'HEAD'], { cwd: repoRoot }).catch(() => null);
  if (!commit) return null;
  const dirty = await runQuiet('git', ['status', '--porcelain', '--', 'main', 'shared', 'bin'], {
    cwd: repoRoot,
  }).catch(() => '');
  return dirty ? `${commit} + uncommitted changes in main/shared/bin` : commit;
}

/** `du -sb` of each top-level entry of the data dir: packs vs SQLite (and its WAL) vs the rest. */
async function breakdown(data: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const name of (await readdir(data)).sort()) out[name] = await duBytes(join(data, name));
  return out;
}

async function runPakit(ctx: BenchContext): Promise<ToolResult> {
  const cli = join(ctx.repoRoot, 'dist', 'main', 'cli', 'main.js');
  if (!existsSync(cli)) throw new Error(`CLI not built: ${cli} is missing (run \`npm run build\`)`);
  const bin = join(ctx.repoRoot, 'bin', 'pakit.js');
  const corpus = await ctx.corpus();
  const run = await freshDir(join(ctx.workDir, 'runs', 'pakit'));
  const data = join(run, 'data');
  const restoreDir = join(run, 'restore');
  const env = { ...process.env, HOME: await freshDir(join(run, 'home')) };
  const pakit = (args: string[], label: string) =>
    runMeasured(process.execPath, [bin, '--data', data, ...args], { env, cwd: ctx.repoRoot, label });

  const warmed = warmPageCache(corpus.dir);
  const first = await pakit(['store', corpus.dir], 'pakit store (first)');
  const snapshot = snapshotFromStoreOutput(first.stdout);
  const storedBytes = await duBytes(data);
  const storedBreakdown = await breakdown(data);
  const second = await pakit(['store', corpus.dir], 'pakit store (second, unchanged)');
  const secondSnapshot = snapshotFromStoreOutput(second.stdout);
  const storedBytesAfterSecond = await duBytes(data);
  const restore = await pakit(['restore', snapshot, '--to', restoreDir], 'pakit restore');
  const verification = await verifyRestore(await corpus.digest(), restoreDir, corpus.dir, basename(corpus.dir));

  let stats: unknown;
  try {
    stats = JSON.parse((await pakit(['stats', '--json'], 'pakit stats')).stdout);
  } catch (err) {
    stats = failure(err);
  }
  ctx.removeAtEnd(run);

  return {
    tool: 'pakit',
    version: `${pakitVersion(ctx.repoRoot)} (${(await gitCommit(ctx.repoRoot)) ?? 'no git'}), ${process.version}`,
    settings: 'node bin/pakit.js --data DIR store CORPUS (defaults: FastCDC chunking, zstd, SQLite)',
    firstBackup: { ...phase(first, corpus.totalBytes), pageCacheWarmed: warmed },
    storedBytes,
    storedMB: megabytes(storedBytes),
    storedBytesAfterSecond,
    storedBreakdown,
    secondBackup: phase(second, corpus.totalBytes),
    restore: { ...phase(restore, corpus.totalBytes), identical: verification.identical, verification },
    snapshot,
    // An unchanged folder should give the same snapshot content; recorded, not asserted.
    secondSnapshotSameHash: secondSnapshot === snapshot,
    stats,
  };
}

export const pakitSection: Section = async (ctx: BenchContext) => {
  try {
    return await runPakit(ctx);
  } catch (err) {
    progress(`pakit failed: ${String(err)}`);
    return failure(err);
  }
};
