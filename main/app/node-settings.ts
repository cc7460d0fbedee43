import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { writeFileAtomic } from '../util/atomic-write.js';
import { ANCHOR_ARGS, type AnchorArg } from '../../shared/anchor.js';
import type { ChainSettings } from './chain-service.js';

/** The node's settings file in the data directory. */
export const SETTINGS_FILE = 'settings.json';

/** What the node keeps across restarts (the desktop app has no command line to repeat them). */
export interface NodeSettings {
  /** The sync folder's absolute path, used when none is given on the command line. */
  readonly folder?: string;
  /** Chain anchoring (never a secret: signers come from the command line, the environment or Settings). */
  readonly chain?: ChainSettings;
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
  const chain = (parsed as { chain?: unknown }).chain;
  return {
    ...(folder === undefined ? {} : { folder }),
    ...(chain === undefined ? {} : { chain: chainSettings(chain, file) }),
  };
}

function chainSettings(v: unknown, file: string): ChainSettings {
  const fail = (msg: string): never => {
    throw new SettingsFileError(`${file}: "chain": ${msg}`);
  };
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail('must be an object');
  const o = v as Record<string, unknown>;
  const int = (k: string): number =>
    typeof o[k] === 'number' && Number.isSafeInteger(o[k]) && o[k] > 0 ? o[k] : fail(`${k} must be a positive integer`);
  const str = (k: string): string => (typeof o[k] === 'string' ? o[k] : fail(`${k} must be a string`));
  if (typeof o.enabled !== 'boolean') fail('enabled must be true or false');
  const args = Array.isArray(o.args) ? (o.args as unknown[]) : fail('args must be an array');
  for (const a of args) if (!(ANCHOR_ARGS as readonly unknown[]).includes(a)) fail(`unknown argument ${String(a)}`);
  return {
    enabled: o.enabled as boolean,
    endpoint: str('endpoint'),
    call: str('call'),
    args: args as AnchorArg[],
    everyMinutes: int('everyMinutes'),
    everyBlocks: int('everyBlocks'),
  };
}

/** Changes some settings, keeping the others. */
export function updateNodeSettings(dataDir: string, patch: Partial<NodeSettings>): void {
  writeNodeSettings(dataDir, { ...readNodeSettings(dataDir), ...patch });
}

/** Replaces the settings file atomically (a crash leaves the old or the new one, never half). */
export function writeNodeSettings(dataDir: string, settings: NodeSettings): void {
  writeFileAtomic(join(dataDir, SETTINGS_FILE), `${JSON.stringify(settings, null, 2)}\n`, 0o600);
}
