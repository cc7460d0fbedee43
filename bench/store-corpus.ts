// The real, mixed file set the chunk-layer benches run on (bench/store-params.ts, bench/store-ingest.ts).
import { lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Documentation (text, gzip), shared libraries (binaries), JavaScript packages: what a real folder mixes. */
export const DEFAULT_ROOTS = ['/usr/share/doc', '/usr/lib/x86_64-linux-gnu', '/work/main/node_modules'];

export interface CorpusFile {
  readonly path: string;
  readonly size: number;
}

export interface StoreBenchArgs {
  readonly roots: string[];
  /** Cap on the corpus, MB (10^6 bytes), split evenly across the roots. */
  readonly limitMB: number;
  readonly flags: Map<string, string>;
}

/** `<dir>... [--limit-mb N] [--name value]...`; no dirs → DEFAULT_ROOTS. */
export function parseArgs(argv: readonly string[]): StoreBenchArgs {
  const roots: string[] = [];
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith('--')) flags.set(a.slice(2), argv[++i] ?? '');
    else roots.push(a);
  }
  return { roots: roots.length > 0 ? roots : DEFAULT_ROOTS, limitMB: Number(flags.get('limit-mb') ?? 300), flags };
}

/**
 * Regular files under each root in sorted path order (so runs are comparable), each root
 * contributing at most its share of the cap. Symlinks are not followed; unreadable entries skipped.
 */
export function collectCorpus(roots: readonly string[], limitMB: number): CorpusFile[] {
  const share = (limitMB * 1e6) / roots.length;
  const out: CorpusFile[] = [];
  for (const root of roots) {
    let taken = 0;
    const walk = (dir: string): void => {
      let names: string[];
      try {
        names = readdirSync(dir).sort();
      } catch {
        return;
      }
      for (const name of names) {
        if (taken >= share) return;
        const path = join(dir, name);
        let st;
        try {
          st = lstatSync(path);
        } catch {
          continue;
        }
        if (st.isDirectory()) walk(path);
        else if (st.isFile() && st.size > 0 && taken + st.size <= share * 1.02) {
          out.push({ path, size: st.size });
          taken += st.size;
        }
      }
    };
    walk(root);
  }
  return out;
}

export const totalSize = (files: readonly CorpusFile[]): number => files.reduce((n, f) => n + f.size, 0);
