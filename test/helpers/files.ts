import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, lstatSync, readlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { seeded } from './tmp.js';

export function sha256hex(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

/** Text that compresses like real prose (words drawn from a fixed vocabulary). */
export function prose(bytes: number, seed = 1): Buffer {
  const rnd = seeded(seed);
  const words =
    'the deed of land registry parcel owner district belize record office clerk archive survey boundary lot village title transfer'.split(
      ' ',
    );
  const parts: string[] = [];
  let n = 0;
  while (n < bytes) {
    const w = words[Math.floor(rnd() * words.length)]!;
    parts.push(w);
    n += w.length + 1;
  }
  return Buffer.from(parts.join(' ')).subarray(0, bytes);
}

export function writeFile(root: string, rel: string, data: Uint8Array | string): string {
  const p = join(root, rel);
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, data);
  return p;
}

/** A small mixed tree: prose, random (incompressible) data, a duplicate, an empty file, unicode names. */
export function makeTree(root: string): Record<string, Buffer> {
  const files: Record<string, Buffer> = {
    'deeds/deed-001.txt': prose(200_000, 1),
    'deeds/deed-002.txt': prose(50_000, 2),
    'scans/scan.bin': randomBytes(700_000),
    'scans/copy-of-scan.bin': Buffer.alloc(0),
    'empty.txt': Buffer.alloc(0),
    'ünïcödé ✓/résumé (final).txt': prose(3_000, 3),
    'with space and\ttab.txt': Buffer.from('odd name\n'),
  };
  files['scans/copy-of-scan.bin'] = files['scans/scan.bin']!;
  for (const [rel, data] of Object.entries(files)) writeFile(root, rel, data);
  return files;
}

/** Relative path → description (sha256 of files, target of links, 'dir') of a tree on disk. */
export function describeTree(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string, rel: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const abs = join(dir, name);
      const r = rel ? `${rel}/${name}` : name;
      const st = lstatSync(abs);
      if (st.isSymbolicLink()) out[r] = `link:${readlinkSync(abs)}`;
      else if (st.isDirectory()) {
        out[r] = 'dir';
        walk(abs, r);
      } else out[r] = `file:${sha256hex(readFileSync(abs))}:${(st.mode & 0o777).toString(8)}`;
    }
  };
  walk(root, '');
  return out;
}

/** Writes a file whose mtime is `ageMs` in the past, so a sync folder counts it as settled at once. */
export function writeSettled(root: string, rel: string, content: string | Uint8Array, ageMs = 5_000): void {
  const p = writeFile(root, rel, content);
  const t = new Date(Date.now() - ageMs);
  utimesSync(p, t, t);
}
