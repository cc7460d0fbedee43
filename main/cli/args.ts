import { homedir } from 'node:os';
import { join } from 'node:path';

export class UsageError extends Error {
  override readonly name = 'UsageError';
  readonly code = 'ERR_USAGE';
}

export type FlagSpec = Record<string, 'boolean' | 'string' | 'number'>;

export interface Parsed {
  readonly positional: string[];
  readonly flags: Record<string, string | number | boolean | undefined>;
}

/**
 * Parses `--flag`, `--flag value`, `--flag=value` and `-o value` (short aliases in `aliases`).
 * Unknown flags are usage errors: a typo must not silently change what a command does.
 */
export function parseArgs(argv: readonly string[], spec: FlagSpec, aliases: Record<string, string> = {}): Parsed {
  const positional: string[] = [];
  const flags: Parsed['flags'] = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (a === '-' || !a.startsWith('-')) {
      positional.push(a);
      continue;
    }
    let name = a.startsWith('--') ? a.slice(2) : (aliases[a.slice(1)] ?? a.slice(1));
    let value: string | undefined;
    const eq = name.indexOf('=');
    if (eq >= 0) {
      value = name.slice(eq + 1);
      name = name.slice(0, eq);
    }
    const type = spec[name];
    if (!type) throw new UsageError(`unknown option ${a}`);
    if (type === 'boolean') {
      if (value !== undefined) throw new UsageError(`--${name} takes no value`);
      flags[name] = true;
      continue;
    }
    if (value === undefined) {
      value = argv[++i];
      if (value === undefined) throw new UsageError(`--${name} needs a value`);
    }
    if (type === 'number') {
      if (!/^\d+$/.test(value))
        throw new UsageError(`--${name} must be a non-negative integer, not ${JSON.stringify(value)}`);
      flags[name] = Number(value);
    } else flags[name] = value;
  }
  return { positional, flags };
}

/** The platform's app-data folder, shared with the desktop app: ~/.local/share/pakit on Linux. */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env, platform = process.platform): string {
  if (env.PAKIT_DATA) return env.PAKIT_DATA;
  const home = homedir();
  switch (platform) {
    case 'darwin':
      return join(home, 'Library', 'Application Support', 'pakit');
    case 'win32':
      return join(env.APPDATA ?? join(home, 'AppData', 'Roaming'), 'pakit');
    default:
      return join(env.XDG_DATA_HOME || join(home, '.local', 'share'), 'pakit');
  }
}
