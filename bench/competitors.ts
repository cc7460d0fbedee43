// borg and restic on the same corpus, measured the same way as Pakit: first backup, an
// unchanged second backup (each tool's own fast path: borg's files cache, restic's parent
// snapshot), and a full restore checked byte for byte against the corpus.
import { basename, join } from 'node:path';
import type { BenchContext, Section } from './context.js';
import { duBytes, progress, runMeasured, runQuiet, which } from './measure.js';
import type { ToolResult } from './tool-result.js';
import { failure, freshDir, megabytes, phase } from './tool-result.js';
import { verifyRestore } from './verify.js';
import { warmPageCache } from './page-cache.js';

/** The caller's environment minus anything that could point a tool at a cache outside the run dir. */
function isolatedEnv(home: string, extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, ...extra };
  for (const k of [
    'XDG_CACHE_HOME',
    'XDG_CONFIG_HOME',
    'XDG_DATA_HOME',
    'XDG_STATE_HOME',
    'BORG_REPO',
    'BORG_CACHE_DIR',
    'BORG_CONFIG_DIR',
    'BORG_SECURITY_DIR',
    'BORG_KEYS_DIR',
    'RESTIC_REPOSITORY_FILE',
    'RESTIC_PASSWORD_FILE',
    'RESTIC_PASSWORD_COMMAND',
  ]) {
    if (!(k in extra)) delete env[k];
  }
  return env;
}

/** borg with its cache, config and keys under `home` (BORG_BASE_DIR), whatever the caller's environment. */
export function borgEnv(home: string): NodeJS.ProcessEnv {
  return isolatedEnv(home, {
    BORG_BASE_DIR: home,
    BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK: 'yes',
    BORG_RELOCATED_REPO_ACCESS_IS_OK: 'yes',
  });
}

async function runBorg(ctx: BenchContext): Promise<ToolResult> {
  const corpus = await ctx.corpus();
  const run = await freshDir(join(ctx.workDir, 'runs', 'borg'));
  const repo = join(run, 'repo');
  const home = await freshDir(join(run, 'home'));
  const restoreDir = await freshDir(join(run, 'restore'));
  // One BORG_BASE_DIR per bench run (fresh cache), shared by both backups of that run: the second
  // backup uses the first one's files cache, as a real user's nightly backup would.
  const env = borgEnv(home);
  const version = await runQuiet('borg', ['--version'], { env });

  await runMeasured('borg', ['init', '--encryption=none', repo], { env, label: 'borg init' });
  const warmed = warmPageCache(corpus.dir);
  const first = await runMeasured('borg', ['create', '--compression', 'zstd,3', `${repo}::a`, corpus.dir], {
    env,
    label: 'borg create (first)',
  });
  const storedBytes = await duBytes(repo);
  const second = await runMeasured('borg', ['create', '--compression', 'zstd,3', `${repo}::b`, corpus.dir], {
    env,
    label: 'borg create (second, unchanged)',
  });
  const storedBytesAfterSecond = await duBytes(repo);
  // borg extract writes the archived path (corpus dir minus its leading slash) under its cwd.
  const restore = await runMeasured('borg', ['extract', `${repo}::a`], {
    env,
    cwd: restoreDir,
    label: 'borg extract',
  });
  const verification = await verifyRestore(await corpus.digest(), restoreDir, corpus.dir, basename(corpus.dir));
  ctx.removeAtEnd(run);

  return {
    tool: 'borg',
    version,
    settings: 'borg init --encryption=none; borg create --compression zstd,3 (defaults otherwise: buzhash chunker)',
    firstBackup: { ...phase(first, corpus.totalBytes), pageCacheWarmed: warmed },
    storedBytes,
    storedMB: megabytes(storedBytes),
    storedBytesAfterSecond,
    secondBackup: phase(second, corpus.totalBytes),
    restore: { ...phase(restore, corpus.totalBytes), identical: verification.identical, verification },
  };
}

async function runRestic(ctx: BenchContext): Promise<ToolResult> {
  const corpus = await ctx.corpus();
  const run = await freshDir(join(ctx.workDir, 'runs', 'restic'));
  const repo = join(run, 'repo');
  const home = await freshDir(join(run, 'home'));
  const restoreDir = await freshDir(join(run, 'restore'));
  const env = isolatedEnv(home, {
    RESTIC_REPOSITORY: repo,
    // The password only unlocks the repository key; restic always encrypts (no "none" mode), which
    // is part of its cost and is reported as such, not hidden.
    RESTIC_PASSWORD: 'pakit-bench',
    RESTIC_CACHE_DIR: join(run, 'cache'),
  });
  const version = await runQuiet('restic', ['version'], { env });

  await runMeasured('restic', ['init', '--repository-version', '2'], { env, label: 'restic init' });
  const backupArgs = ['backup', '--compression', 'auto', '--quiet', corpus.dir];
  const warmed = warmPageCache(corpus.dir);
  const first = await runMeasured('restic', backupArgs, { env, label: 'restic backup (first)' });
  const storedBytes = await duBytes(repo);
  // Same host and path: restic picks the first snapshot as parent and skips unchanged files.
  const second = await runMeasured('restic', backupArgs, { env, label: 'restic backup (second, unchanged)' });
  const storedBytesAfterSecond = await duBytes(repo);
  const restore = await runMeasured('restic', ['restore', 'latest', '--target', restoreDir], {
    env,
    label: 'restic restore',
  });
  const verification = await verifyRestore(await corpus.digest(), restoreDir, corpus.dir, basename(corpus.dir));
  ctx.removeAtEnd(run);

  return {
    tool: 'restic',
    version,
    settings:
      'restic init --repository-version 2; restic backup --compression auto (AES-256 + Poly1305 always on: restic has no unencrypted mode)',
    firstBackup: { ...phase(first, corpus.totalBytes), pageCacheWarmed: warmed },
    storedBytes,
    storedMB: megabytes(storedBytes),
    storedBytesAfterSecond,
    secondBackup: phase(second, corpus.totalBytes),
    restore: { ...phase(restore, corpus.totalBytes), identical: verification.identical, verification },
  };
}

function guarded(cmd: string, pkg: string, body: (ctx: BenchContext) => Promise<ToolResult>): Section {
  return async (ctx) => {
    if (!(await which(cmd))) return { error: `not installed: apt-get install ${pkg}` };
    try {
      return await body(ctx);
    } catch (err) {
      progress(`${cmd} failed: ${String(err)}`);
      return failure(err);
    }
  };
}

export const borgSection = guarded('borg', 'borgbackup', runBorg);
export const resticSection = guarded('restic', 'restic', runRestic);
