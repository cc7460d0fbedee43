// Two releases of the same software, side by side: the case a versioning archive must handle
// well (most of the bytes of release N+1 are in release N, shifted). Fetched once with
// `npm pack` into the cache, so reruns are offline.
import { existsSync } from 'node:fs';
import { mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { Candidate } from './corpus-sources.js';
import { progress, runQuiet } from './measure.js';

/** Pairs of consecutive releases; unscoped names so `npm pack` names the tarball `<name>-<version>.tgz`. */
export const RELEASES: { name: string; version: string }[] = [
  { name: 'typescript', version: '5.8.3' },
  { name: 'typescript', version: '5.9.3' },
  { name: 'prettier', version: '3.5.3' },
  { name: 'prettier', version: '3.6.2' },
];

export interface FetchedRelease {
  id: string;
  tarball: string;
  /** Files of the extracted package, sorted by path. */
  files: Candidate[];
}

async function listSorted(dir: string, prefix: string): Promise<Candidate[]> {
  const out: Candidate[] = [];
  const walk = async (d: string): Promise<void> => {
    const entries = (await readdir(d, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) {
        const st = await stat(p);
        out.push({ src: p, rel: join(prefix, relative(dir, p)), srcSize: st.size, srcMtimeMs: Math.trunc(st.mtimeMs) });
      }
    }
  };
  await walk(dir);
  return out;
}

async function fetchOne(cacheDir: string, name: string, version: string): Promise<FetchedRelease> {
  const id = `${name}-${version}`;
  const tarball = join(cacheDir, `${id}.tgz`);
  if (!existsSync(tarball)) {
    progress(`corpus: npm pack ${name}@${version} (cached for later runs)`);
    await runQuiet('npm', ['pack', `${name}@${version}`, '--pack-destination', cacheDir, '--silent'], {
      cwd: cacheDir,
    });
    if (!existsSync(tarball)) throw new Error(`npm pack ${name}@${version} did not produce ${tarball}`);
  }
  const extracted = join(cacheDir, 'extracted', id);
  const done = join(extracted, '.complete');
  if (!existsSync(done)) {
    await rm(extracted, { recursive: true, force: true });
    await mkdir(extracted, { recursive: true });
    await runQuiet('tar', ['-xzf', tarball, '-C', extracted, '--no-same-owner']);
    await writeFile(done, '');
  }
  // npm tarballs hold everything under package/; the marker file is ours, not the release's.
  const files = await listSorted(join(extracted, 'package'), join('releases', id));
  return { id, tarball, files };
}

export async function fetchReleases(cacheDir: string): Promise<FetchedRelease[]> {
  await mkdir(cacheDir, { recursive: true });
  const out: FetchedRelease[] = [];
  for (const r of RELEASES) out.push(await fetchOne(cacheDir, r.name, r.version));
  return out;
}

/**
 * Water-filling: small releases are taken whole, large ones share what is left equally, and each
 * release is cut at the same sorted-path prefix on every run. With the default budget all are whole.
 */
export function selectReleaseFiles(releases: FetchedRelease[], budget: number): Candidate[] {
  const sizeOf = (r: FetchedRelease) => r.files.reduce((s, f) => s + f.srcSize, 0);
  const bySize = [...releases].sort((a, b) => sizeOf(a) - sizeOf(b));
  let left = budget;
  const picked: Candidate[] = [];
  bySize.forEach((r, i) => {
    const allowance = left / (bySize.length - i);
    let used = 0;
    for (const f of r.files) {
      if (used + f.srcSize > allowance) continue; // skip a file too big for what is left, keep the smaller ones
      used += f.srcSize;
      picked.push(f);
    }
    left -= used;
  });
  return picked;
}
