// Where the corpus comes from: real files already on this (Debian) machine, by category.
//
// Roots are system paths (not this repository's node_modules) so the selection does not move
// when the project adds a dependency: same machine, same files.
import { createHash } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export interface Candidate {
  /** Absolute source path. */
  src: string;
  /** Path inside the corpus, `<category>/<src without leading slash>` (collision-free by construction). */
  rel: string;
  /** Source size on disk; for gunzipped man pages the decompressed size is learnt at selection. */
  srcSize: number;
  srcMtimeMs: number;
  /** Man pages are stored decompressed: real prose, not one more .gz. */
  gunzip?: boolean;
}

export interface SourceCategory {
  name: 'documents' | 'source' | 'compressed' | 'binaries';
  describe: string;
  /** Fraction of the target corpus size this category may take. */
  share: number;
  roots: string[];
  accept(path: string, name: string): boolean;
  /** Skip oversized files so one huge library cannot eat a category's whole budget. */
  maxFileBytes: number;
  gunzip?(path: string): boolean;
}

const ext = (name: string): string => {
  const i = name.lastIndexOf('.');
  return i < 0 ? '' : name.slice(i + 1).toLowerCase();
};

const DOC_EXT = new Set(['html', 'htm', 'pdf', 'txt', 'md', 'rst', 'xml', 'svg', 'tex', 'info']);
const SRC_EXT = new Set(['js', 'mjs', 'cjs', 'ts', 'json', 'md', 'py', 'h', 'hpp', 'c', 'pl', 'pm', 'sh']);
const PACKED_EXT = new Set(['gz', 'xz', 'bz2', 'zst', 'png', 'jpg', 'jpeg', 'zip', 'jar', 'jmod', 'whl', 'tgz']);

/** The binaries category takes shared objects and Node add-ons: compiled code, poorly compressible. */
const isSharedObject = (name: string): boolean => /\.so(\.\d+)*$/.test(name) || name.endsWith('.node');

export const SOURCE_CATEGORIES: SourceCategory[] = [
  {
    name: 'documents',
    describe: '/usr/share/doc (uncompressed files), man pages (gunzipped), other HTML/PDF/text under /usr/share',
    share: 0.25,
    roots: ['/usr/share'],
    accept: (path, name) => {
      if (path.startsWith('/usr/share/man/')) return name.endsWith('.gz');
      if (path.startsWith('/usr/share/doc/')) return !PACKED_EXT.has(ext(name));
      return DOC_EXT.has(ext(name));
    },
    gunzip: (path) => path.startsWith('/usr/share/man/'),
    maxFileBytes: 16e6,
  },
  {
    name: 'source',
    describe: 'npm (global node_modules) JavaScript, Python standard library and dist-packages, C headers',
    share: 0.25,
    roots: ['/usr/lib/node_modules', '/usr/lib/python3', '/usr/lib/python3.11', '/usr/include'],
    accept: (_path, name) => SRC_EXT.has(ext(name)),
    maxFileBytes: 16e6,
  },
  {
    name: 'compressed',
    describe: 'already-compressed files: .gz/.xz/.bz2/.png/.jpg/.zip/.jar/.jmod/.whl under /usr/share and /usr/lib',
    share: 0.2,
    roots: ['/usr/share', '/usr/lib/jvm', '/usr/lib/python3', '/usr/lib/python3.11'],
    // /usr/share/man pages are documents (gunzipped) already; keep each byte in one category.
    accept: (path, name) => PACKED_EXT.has(ext(name)) && !path.startsWith('/usr/share/man/'),
    maxFileBytes: 48e6,
  },
  {
    name: 'binaries',
    describe: 'shared libraries (.so) from /usr/lib/x86_64-linux-gnu and Node add-ons (.node)',
    share: 0.15,
    roots: ['/usr/lib/x86_64-linux-gnu', '/usr/lib/node_modules'],
    accept: (_path, name) => isSharedObject(name),
    maxFileBytes: 48e6,
  },
];

/** Names that would not survive a round trip through every tool's path handling unchanged. */
function awkwardName(name: string): boolean {
  return /[\u0000-\u001f\u007f\ufffd]/.test(name);
}

/**
 * Regular files under `root`, symlinks skipped (they would be duplicates or dangle). Synchronous
 * on purpose: tens of thousands of small stat calls are several times faster without promise
 * round trips through the thread pool, and nothing else runs while the corpus is planned.
 */
export function walkFiles(root: string, accept: (path: string, name: string) => boolean, into: Candidate[]): void {
  let entries;
  try {
    entries = readdirSync(root, { withFileTypes: true });
  } catch {
    return; // missing or unreadable root: this machine simply has less of that kind of file
  }
  for (const e of entries) {
    if (awkwardName(e.name)) continue;
    const path = join(root, e.name);
    if (e.isDirectory()) walkFiles(path, accept, into);
    else if (e.isFile() && accept(path, e.name)) {
      const st = statSync(path, { throwIfNoEntry: false });
      if (!st || st.size === 0) continue;
      into.push({ src: path, rel: '', srcSize: st.size, srcMtimeMs: Math.trunc(st.mtimeMs) });
    }
  }
}

/** A spread-out but reproducible order: by hash of the path, so a budget samples every package. */
export function spreadOrder(paths: Candidate[]): Candidate[] {
  const key = new Map(paths.map((c) => [c.src, createHash('sha256').update(c.src).digest('hex')]));
  return [...paths].sort((a, b) => ((key.get(a.src) as string) < (key.get(b.src) as string) ? -1 : 1));
}

export async function candidatesFor(cat: SourceCategory): Promise<Candidate[]> {
  const found: Candidate[] = [];
  const seen = new Set<string>();
  for (const root of cat.roots) {
    const batch: Candidate[] = [];
    walkFiles(root, cat.accept, batch);
    for (const c of batch) {
      if (seen.has(c.src) || c.srcSize > cat.maxFileBytes) continue; // roots may nest (/usr/lib/python3*)
      seen.add(c.src);
      const gunzip = cat.gunzip?.(c.src) ?? false;
      const inner = gunzip ? c.src.replace(/\.gz$/, '') : c.src;
      found.push({ ...c, rel: join(cat.name, inner.slice(1)), gunzip: gunzip || undefined });
    }
  }
  return spreadOrder(found);
}
