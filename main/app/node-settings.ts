import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { writeFileAtomic } from '../util/atomic-write.js';

/** The node's settings file in the data directory. */
export const SETTINGS_FILE = 'settings.json';

/** What the node keeps across restarts (the desktop app has no command line to repeat them). */
export interface NodeSettings {
  /** The sync folder's absolute path, used when none is given on the command line. */
  readonly folder?: string;
}

export class SettingsFileError extends Error {
  override readonly name = 'SettingsFileError';
  readonly code = 'ERR_SETTINGS_FILE';
}

/** The settings in `dataDir`; none yet is `{}`. A file that is not ours is an error naming it. */
export function readNodeSettings(dataDir: string): NodeSettings {
  const file = join(dataDir, SETTINGS_FILE);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw e;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new SettingsFileError(`${file} is not JSON: fix or remove it`);
  }
  const folder = (parsed as { folder?: unknown } | null)?.folder;
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new SettingsFileError(`${file} must hold a JSON object`);
  if (folder !== undefined && (typeof folder !== 'string' || !isAbsolute(folder)))
    throw new SettingsFileError(`${file}: "folder" must be an absolute path`);
  return folder === undefined ? {} : { folder };
}

/** Replaces the settings file atomically (a crash leaves the old or the new one, never half). */
export function writeNodeSettings(dataDir: string, settings: NodeSettings): void {
  writeFileAtomic(join(dataDir, SETTINGS_FILE), `${JSON.stringify(settings, null, 2)}\n`, 0o600);
}
