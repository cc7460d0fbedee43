import { afterEach } from 'vitest';
import { Archive } from '../../main/archive/archive.js';
import { tempDir } from './tmp.js';

const open: Archive[] = [];
afterEach(async () => {
  for (const a of open.splice(0)) await a.close();
});

/** A writable archive in a fresh temporary directory (or `dir`), closed after the test. */
export async function openArchive(dir = tempDir()): Promise<Archive> {
  const a = await Archive.open({ dir, workers: 2, commitDelayMs: 5 });
  open.push(a);
  return a;
}

/** Forgets an archive the test closed itself. */
export function forget(a: Archive): void {
  const i = open.indexOf(a);
  if (i >= 0) open.splice(i, 1);
}

export async function readAll(a: Archive, hash: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const p of a.read(hash)) parts.push(p);
  return Buffer.concat(parts);
}
