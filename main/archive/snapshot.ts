import { isHash32Hex } from '../../shared/bytes.js';
import { checkRelativePath } from '../util/safe-path.js';
import { nextTurn } from '../util/next-turn.js';

/**
 * A snapshot block's content: the folder tree at one moment, as canonical JSON (entries sorted by
 * path, fixed key order), stored and chunked like any object so it is proven the same way.
 */
export type SnapshotEntry =
  | {
      readonly path: string;
      readonly type: 'file';
      readonly mode: number;
      readonly mtime: number;
      readonly size: number;
      readonly hash: string;
    }
  | {
      readonly path: string;
      readonly type: 'symlink';
      readonly mtime: number;
      readonly target: string;
      readonly hash: string;
    }
  | { readonly path: string; readonly type: 'dir'; readonly mode: number; readonly mtime: number };

export interface SnapshotManifest {
  readonly format: 'pakit-snapshot';
  readonly version: 1;
  readonly entries: readonly SnapshotEntry[];
}

export class SnapshotFormatError extends Error {
  override readonly name = 'SnapshotFormatError';
  readonly code = 'ERR_SNAPSHOT_FORMAT';
}

export function canonicalEntry(e: SnapshotEntry): SnapshotEntry {
  switch (e.type) {
    case 'file':
      return { path: e.path, type: e.type, mode: e.mode, mtime: e.mtime, size: e.size, hash: e.hash };
    case 'symlink':
      return { path: e.path, type: e.type, mtime: e.mtime, target: e.target, hash: e.hash };
    case 'dir':
      return { path: e.path, type: e.type, mode: e.mode, mtime: e.mtime };
    default: {
      const never: never = e;
      throw new SnapshotFormatError(`unknown entry ${JSON.stringify(never)}`);
    }
  }
}

export function encodeSnapshot(entries: readonly SnapshotEntry[]): Buffer {
  const sorted = [...entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const manifest: SnapshotManifest = { format: 'pakit-snapshot', version: 1, entries: sorted.map(canonicalEntry) };
  return Buffer.from(JSON.stringify(manifest));
}

/** Entries per slice of sorting work, between turns of the event loop. */
const SLICE = 2048;

/**
 * Sorts strings by UTF-16 code units, as `<` and the default sort do, in slices: runs of SLICE
 * sorted natively, then merged pairwise. One native sort of 35,000 paths held the main thread for
 * up to 50 ms on a loaded machine.
 */
async function sortAsync(keys: readonly string[]): Promise<string[]> {
  let runs: string[][] = [];
  for (let i = 0; i < keys.length; i += SLICE) {
    if (i > 0) await nextTurn();
    runs.push(keys.slice(i, i + SLICE).sort());
  }
  let steps = 0;
  while (runs.length > 1) {
    const merged: string[][] = [];
    for (let r = 0; r < runs.length; r += 2) {
      const a = runs[r]!;
      const b = runs[r + 1];
      if (!b) {
        merged.push(a);
        continue;
      }
      const out: string[] = [];
      let i = 0;
      let j = 0;
      while (i < a.length && j < b.length) {
        out.push(a[i]! < b[j]! ? a[i++]! : b[j++]!);
        if (++steps % (8 * SLICE) === 0) await nextTurn();
      }
      for (; i < a.length; i++) out.push(a[i]!);
      for (; j < b.length; j++) out.push(b[j]!);
      merged.push(out);
    }
    runs = merged;
  }
  return runs[0] ?? [];
}

/**
 * The entries in path order (UTF-16 code units, as `<`), one per path: the last given wins. A
 * walk's entries come nearly sorted (its order differs only where a name sorts before "/", as
 * "a.txt" before "a/x"), and for such input one native sort is cheap — 4 ms for the bench corpus's
 * 37,820 entries, where the sliced merge sort below took 60–150 ms, mostly as yet unoptimised code
 * at the end of a store. Input in no particular order still goes through the sliced sort.
 */
export async function sortedByPath<T extends { readonly path: string }>(entries: readonly T[]): Promise<T[]> {
  let descents = 0;
  for (let i = 1; i < entries.length; i++) if (entries[i]!.path < entries[i - 1]!.path) descents++;
  let sorted: T[];
  if (descents <= entries.length / 64) {
    // Stable: of entries sharing a path, the last given stays last.
    sorted = [...entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  } else {
    const byPath = new Map<string, T>();
    for (let i = 0; i < entries.length; i++) {
      if (i > 0 && i % (4 * SLICE) === 0) await nextTurn();
      byPath.set(entries[i]!.path, entries[i]!);
    }
    sorted = (await sortAsync([...byPath.keys()])).map((p) => byPath.get(p)!);
  }
  const unique: T[] = [];
  for (let i = 0; i < sorted.length; i++)
    if (i + 1 === sorted.length || sorted[i + 1]!.path !== sorted[i]!.path) unique.push(sorted[i]!);
  return unique;
}

/** Parses and validates a manifest; every path must be a safe relative path (no `..`, no absolute). */
export function decodeSnapshot(bytes: Uint8Array): SnapshotManifest {
  let m: unknown;
  try {
    m = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw new SnapshotFormatError('snapshot manifest is not JSON');
  }
  const o = m as SnapshotManifest;
  if (!o || o.format !== 'pakit-snapshot' || o.version !== 1 || !Array.isArray(o.entries))
    throw new SnapshotFormatError('not a pakit-snapshot v1 manifest');
  const seen = new Set<string>();
  for (const e of o.entries) {
    const why = checkRelativePath(e?.path);
    if (why) throw new SnapshotFormatError(`unsafe path ${JSON.stringify(e?.path)} in snapshot: ${why}`);
    if (seen.has(e.path)) throw new SnapshotFormatError(`path ${e.path} listed twice`);
    seen.add(e.path);
    if (e.type === 'file' || e.type === 'symlink') {
      if (!isHash32Hex(e.hash)) throw new SnapshotFormatError(`entry ${e.path} has no valid hash`);
    } else if (e.type !== 'dir') throw new SnapshotFormatError(`entry ${e.path} has unknown type`);
  }
  return o;
}
