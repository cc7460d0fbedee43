import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic-write.js';

export const MARKER_DIR = '.pakit';
export const MARKER_FILE = join(MARKER_DIR, 'folder-id');

export class MarkerError extends Error {
  override readonly name = 'MarkerError';
  readonly code = 'ERR_SYNC_MARKER';
}

/** The folder id in ROOT/.pakit/folder-id, or undefined when there is no marker. */
export function readMarker(root: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(join(root, MARKER_FILE), 'utf8').trim();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  if (!/^[0-9a-f]{32}$/.test(text))
    throw new MarkerError(`${join(root, MARKER_FILE)} does not hold a folder id (32 hex digits)`);
  return text;
}

export function writeMarker(root: string, id: string = randomBytes(16).toString('hex')): string {
  mkdirSync(join(root, MARKER_DIR), { recursive: true });
  writeFileAtomic(join(root, MARKER_FILE), `${id}\n`, 0o644);
  return id;
}
