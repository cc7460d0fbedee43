// Which code a bench run measured: the commit, and whether tracked files differed from it. Figures
// from runs minutes apart are only comparable (or poolable, see pooled.ts) if they measured the same.
import { runQuiet } from './measure.js';

export interface CodeVersion {
  /** `git rev-parse HEAD`, or null outside a git checkout (or without git). */
  readonly commit: string | null;
  /** Tracked files modified against the commit (built from them, dist/ measured something else). */
  readonly dirty: boolean | null;
  /** Why commit is null. */
  readonly unknown?: string;
}

export async function codeVersion(repoRoot: string): Promise<CodeVersion> {
  try {
    const commit = await runQuiet('git', ['-C', repoRoot, 'rev-parse', 'HEAD']);
    const status = await runQuiet('git', ['-C', repoRoot, 'status', '--porcelain', '--untracked-files=no']);
    return { commit, dirty: status !== '' };
  } catch (err) {
    return { commit: null, dirty: null, unknown: err instanceof Error ? err.message.split('\n')[0]! : String(err) };
  }
}
