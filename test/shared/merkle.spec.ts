/**
 * shared/merkle.ts against an independent, deliberately naive RFC 9162 implementation (the
 * recursive MTH / PATH / PROOF definitions of §2.1, over arrays, hashed with node:crypto), and
 * against the Certificate Transparency reference vectors.
 */
import { createHash } from 'node:crypto';
import { seeded } from '../helpers/tmp.js';
import { describe, expect, it } from 'vitest';
import { toHex } from '../../shared/bytes.js';
import {
  consistencyPath,
  inclusionPath,
  leafHash,
  MerkleFrontier,
  merkleRoot,
  multiInclusionNodes,
  nodeHash,
  rootFromInclusionPath,
  rootFromMultiInclusion,
  rootOfLeafHashes,
  splitPoint,
  subtreeOfLeafHashes,
  verifyConsistency,
  verifyInclusion,
} from '../../shared/merkle.js';

// ---- the naive reference ----------------------------------------------------------------------

const sha = (...parts: Uint8Array[]): Uint8Array => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
};
const refLeaf = (d: Uint8Array): Uint8Array => sha(Uint8Array.of(0), d);
const refNode = (l: Uint8Array, r: Uint8Array): Uint8Array => sha(Uint8Array.of(1), l, r);
/** k: the largest power of two smaller than n (§2.1.1), found by doubling, not by splitPoint. */
const refSplit = (n: number): number => 2 ** Math.ceil(Math.log2(n) - 1);

/** MTH(D[n]) over raw entries. */
function refMth(d: readonly Uint8Array[]): Uint8Array {
  if (d.length === 0) return sha();
  if (d.length === 1) return refLeaf(d[0]!);
  const k = refSplit(d.length);
  return refNode(refMth(d.slice(0, k)), refMth(d.slice(k)));
}

/** PATH(m, D[n]) (§2.1.3.1). */
function refPath(m: number, d: readonly Uint8Array[]): Uint8Array[] {
  if (d.length <= 1) return [];
  const k = refSplit(d.length);
  return m < k
    ? [...refPath(m, d.slice(0, k)), refMth(d.slice(k))]
    : [...refPath(m - k, d.slice(k)), refMth(d.slice(0, k))];
}

/** PROOF(m, D[n]) = SUBPROOF(m, D[n], true) (§2.1.4.1). */
function refProof(m: number, d: readonly Uint8Array[]): Uint8Array[] {
  const sub = (m: number, d: readonly Uint8Array[], b: boolean): Uint8Array[] => {
    if (m === d.length) return b ? [] : [refMth(d)];
    const k = refSplit(d.length);
    return m <= k
      ? [...sub(m, d.slice(0, k), b), refMth(d.slice(k))]
      : [...sub(m - k, d.slice(k), false), refMth(d.slice(0, k))];
  };
  return sub(m, d, true);
}

/** Which side each sibling of PATH(m, D[n]) sits on, leaf first: the only thing the verifier may depend on. */
function refPathShape(m: number, n: number): string {
  if (n <= 1) return '';
  const k = refSplit(n);
  return m < k ? `${refPathShape(m, k)}R` : `${refPathShape(m - k, n - k)}L`;
}

/** Maximal subtrees holding none of `proven`, depth-first left to right. */
function refMultiNodes(proven: ReadonlySet<number>, d: readonly Uint8Array[], lo = 0): Uint8Array[] {
  let any = false;
  for (let i = lo; i < lo + d.length; i++) any ||= proven.has(i);
  if (!any) return [refMth(d)];
  if (d.length === 1) return [];
  const k = refSplit(d.length);
  return [...refMultiNodes(proven, d.slice(0, k), lo), ...refMultiNodes(proven, d.slice(k), lo + k)];
}

// ---- fixtures ---------------------------------------------------------------------------------

/** Deterministic PRNG, so a failure can be replayed. */
const prng = seeded;

const MAX = 70;
const entries = Array.from({ length: MAX }, (_, i) => sha(new TextEncoder().encode(`entry ${i}`)));
const leaves = entries.map((e) => leafHash(e));
const subtree = subtreeOfLeafHashes(leaves);
const roots = Array.from({ length: MAX + 1 }, (_, n) => refMth(entries.slice(0, n)));
const hex = (a: readonly Uint8Array[]): string[] => a.map(toHex);
const flip = (b: Uint8Array, i: number): Uint8Array => {
  const c = Uint8Array.from(b);
  c[i]! ^= 0x01;
  return c;
};
const junk = sha(new TextEncoder().encode('junk'));

/**
 * Collects failed expectations in hot loops (expect() per iteration would dominate the run time)
 * and reports them all at once, each with its label.
 */
function collector(): { is: (got: boolean, want: boolean, label: string) => void; done: () => void } {
  const bad: string[] = [];
  return {
    is: (got, want, label) => {
      if (got !== want) bad.push(`${label}: got ${got}`);
    },
    done: () => expect(bad.slice(0, 20)).toEqual([]),
  };
}

describe('hashing', () => {
  it("gives every node hash a digest of its own, whatever the children's lengths", () => {
    // nodeHash reuses one input buffer for 32-byte children; each digest must outlive the next call.
    const a = nodeHash(leaves[0]!, leaves[1]!);
    const b = nodeHash(a, leaves[2]!);
    const c = nodeHash(b, a);
    const ra = refNode(leaves[0]!, leaves[1]!);
    const rb = refNode(ra, leaves[2]!);
    expect([a, b, c].map(toHex)).toEqual([ra, rb, refNode(rb, ra)].map(toHex));
    const short = Uint8Array.of(7, 8, 9);
    expect(toHex(nodeHash(short, leaves[0]!))).toBe(toHex(refNode(short, leaves[0]!)));
    expect(toHex(nodeHash(leaves[0]!, short))).toBe(toHex(refNode(leaves[0]!, short)));
  });

  it('matches the naive definitions', () => {
    expect(toHex(leafHash(entries[3]!))).toBe(toHex(refLeaf(entries[3]!)));
    expect(toHex(nodeHash(leaves[0]!, leaves[1]!))).toBe(toHex(refNode(leaves[0]!, leaves[1]!)));
    for (let n = 2; n <= 1025; n++) expect(splitPoint(n)).toBe(refSplit(n));
    for (let n = 0; n <= MAX; n++) {
      expect(toHex(merkleRoot(entries.slice(0, n)))).toBe(toHex(roots[n]!));
      expect(toHex(rootOfLeafHashes(leaves.slice(0, n)))).toBe(toHex(roots[n]!));
    }
  });

  it('gives the same root one leaf at a time (MerkleFrontier) as over the whole list, at every size', () => {
    const f = new MerkleFrontier();
    expect(toHex(f.root())).toBe(toHex(roots[0]!));
    for (let n = 1; n <= MAX; n++) {
      f.push(entries[n - 1]!);
      expect(f.size).toBe(n);
      // root() may be asked at any point and leaves the frontier as it was.
      expect(toHex(f.root())).toBe(toHex(roots[n]!));
    }
    // Past the shared fixture: sizes around powers of two up to 4,097, against merkleRoot.
    const ids = Array.from({ length: 4097 }, (_, i) => new Uint8Array([i & 255, i >> 8, 7]));
    const g = new MerkleFrontier();
    const check = new Set([255, 256, 257, 1023, 1024, 1025, 4095, 4096, 4097]);
    ids.forEach((id, i) => {
      g.push(id);
      if (check.has(i + 1)) expect(toHex(g.root())).toBe(toHex(merkleRoot(ids.slice(0, i + 1))));
    });
  });

  it('gives the empty tree SHA-256("") and keeps leaves and nodes apart', () => {
    expect(toHex(merkleRoot([]))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    // A node's preimage must not be a leaf's: the one-byte prefix is what makes it so.
    const asLeaf = leafHash(new Uint8Array([...leaves[0]!, ...leaves[1]!]));
    expect(toHex(asLeaf)).not.toBe(toHex(nodeHash(leaves[0]!, leaves[1]!)));
  });
});

// Published Certificate Transparency vectors (RFC 6962 §2.1, as used by transparency-dev/merkle).
describe('Certificate Transparency reference vectors', () => {
  const ct = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map(
    (h) => new Uint8Array(Buffer.from(h, 'hex')),
  );
  const ctRoots = [
    'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
    'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
    'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
    'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
    '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
    'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
    '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
  ];
  const ctLeaves = ct.map((d) => leafHash(d));
  const ctSubtree = subtreeOfLeafHashes(ctLeaves);

  it('reproduces the published roots for sizes 0..8', () => {
    for (let n = 0; n <= 8; n++) expect(toHex(merkleRoot(ct.slice(0, n)))).toBe(ctRoots[n]);
  });

  it('reproduces the published audit paths and consistency proofs', () => {
    expect(hex(inclusionPath(0, 8, ctSubtree))).toEqual([
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ]);
    expect(hex(inclusionPath(5, 8, ctSubtree))).toEqual([
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ]);
    expect(hex(consistencyPath(2, 8, ctSubtree))).toEqual([
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ]);
    expect(hex(consistencyPath(6, 8, ctSubtree))).toEqual([
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ]);
    expect(hex(consistencyPath(2, 5, ctSubtree))).toEqual([
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ]);
  });
});

describe('inclusion (every leaf of every tree size 1..70)', () => {
  it('builds the naive audit path and verifies it', () => {
    const c = collector();
    for (let n = 1; n <= MAX; n++) {
      for (let m = 0; m < n; m++) {
        const path = inclusionPath(m, n, subtree);
        c.is(hex(path).join() === hex(refPath(m, entries.slice(0, n))).join(), true, `path ${m}/${n}`);
        c.is(verifyInclusion(m, n, leaves[m]!, path, roots[n]!), true, `verify ${m}/${n}`);
      }
    }
    c.done();
  });

  it('fails for a wrong index, leaf or root', () => {
    const c = collector();
    for (let n = 1; n <= MAX; n++) {
      for (let m = 0; m < n; m++) {
        const path = inclusionPath(m, n, subtree);
        const at = `${m}/${n}`;
        // Neighbours and one-bit flips (the mistakes an off-by-one or a bit error makes), plus the ends.
        for (const w of new Set([m - 1, m + 1, m ^ 1, m ^ 2, m ^ 4, 0, n - 1]))
          if (w !== m && w >= 0 && w < n)
            c.is(verifyInclusion(w, n, leaves[m]!, path, roots[n]!), false, `index ${w} for ${at}`);
        c.is(verifyInclusion(n, n, leaves[m]!, path, roots[n]!), false, `index n for ${at}`);
        c.is(verifyInclusion(-1, n, leaves[m]!, path, roots[n]!), false, `index -1 for ${at}`);
        c.is(verifyInclusion(m + 0.5, n, leaves[m]!, path, roots[n]!), false, `fractional index for ${at}`);
        c.is(verifyInclusion(m, n, leaves[(m + 1) % MAX]!, path, roots[n]!), false, `other leaf for ${at}`);
        c.is(verifyInclusion(m, n, entries[m]!, path, roots[n]!), false, `unhashed leaf for ${at}`);
        c.is(verifyInclusion(m, n, leaves[m]!, path, flip(roots[n]!, 31)), false, `flipped root for ${at}`);
        c.is(verifyInclusion(m, n, leaves[m]!, path, roots[n === 1 ? 2 : n - 1]!), false, `other root for ${at}`);
      }
    }
    c.done();
  });

  it('fails for a wrong tree size unless the path has the very same shape (the size is what the checkpoint signs)', () => {
    const c = collector();
    let coincide = 0;
    for (let n = 1; n <= MAX; n++) {
      for (let m = 0; m < n; m++) {
        const path = inclusionPath(m, n, subtree);
        // Every other size for small trees; neighbours and doubles beyond.
        const sizes = n <= 24 ? [...Array(MAX + 1).keys()] : [n - 1, n + 1, n + 2, 2 * n - 1, 2 * n];
        for (const w of sizes) {
          if (w === n || w <= m || w > MAX) continue;
          // Against the real root of a tree of that size: never.
          c.is(verifyInclusion(m, w, leaves[m]!, path, roots[w]!), false, `size ${w} for ${m}/${n}`);
          // Against this tree's root: exactly when the naive shapes coincide (e.g. leaf 0 of 3 and of 4),
          // which is why a verifier must take the size from the signed checkpoint, never from the proof.
          const same = refPathShape(m, w) === refPathShape(m, n);
          if (same) coincide++;
          c.is(verifyInclusion(m, w, leaves[m]!, path, roots[n]!), same, `shape ${w} for ${m}/${n}`);
        }
      }
    }
    c.done();
    expect(coincide).toBeGreaterThan(0);
  });

  it('fails for a flipped byte in any path element, and for a truncated, extended or reordered path', () => {
    const c = collector();
    for (let n = 2; n <= MAX; n++) {
      for (let m = 0; m < n; m++) {
        const path = inclusionPath(m, n, subtree);
        const at = `${m}/${n}`;
        const ok = (p: Uint8Array[]): boolean => verifyInclusion(m, n, leaves[m]!, p, roots[n]!);
        for (let i = 0; i < path.length; i++) {
          for (const byte of [0, 17, 31])
            c.is(ok(path.map((p, j) => (j === i ? flip(p, byte) : p))), false, `flip ${i}.${byte} of ${at}`);
          c.is(ok(path.filter((_, j) => j !== i)), false, `drop ${i} of ${at}`);
          c.is(ok([...path.slice(0, i), junk, ...path.slice(i)]), false, `insert at ${i} of ${at}`);
          c.is(ok(path.map((p, j) => (j === i ? p.subarray(0, 31) : p))), false, `short element ${i} of ${at}`);
        }
        c.is(ok(path.slice(0, -1)), false, `truncated ${at}`);
        c.is(ok([...path, junk]), false, `extended ${at}`);
        c.is(ok([...path, path[path.length - 1]!]), false, `repeated last of ${at}`);
        if (path.length >= 2) c.is(ok([path[1]!, path[0]!, ...path.slice(2)]), false, `swapped ${at}`);
        c.is(rootFromInclusionPath(m, n, leaves[m]!, []) === undefined, true, `empty path for ${at}`);
      }
    }
    c.done();
  });

  it('refuses to build a path outside the tree', () => {
    expect(() => inclusionPath(3, 3, subtree)).toThrow(RangeError);
    expect(() => inclusionPath(-1, 3, subtree)).toThrow(RangeError);
    expect(verifyInclusion(0, 0, leaves[0]!, [], roots[0]!)).toBe(false);
    expect(verifyInclusion(0, 1, leaves[0]!, [], roots[1]!)).toBe(true);
  });
});

describe('consistency (every pair 1 ≤ m ≤ n ≤ 70)', () => {
  it('builds the naive proof and verifies it', () => {
    const c = collector();
    for (let n = 1; n <= MAX; n++) {
      for (let m = 1; m <= n; m++) {
        const proof = consistencyPath(m, n, subtree);
        c.is(hex(proof).join() === hex(refProof(m, entries.slice(0, n))).join(), true, `proof ${m}→${n}`);
        c.is(verifyConsistency(m, n, roots[m]!, roots[n]!, proof), true, `verify ${m}→${n}`);
      }
    }
    c.done();
  });

  it('fails for wrong sizes, wrong roots and any damage to the proof', () => {
    const c = collector();
    for (let n = 1; n <= MAX; n++) {
      for (let m = 1; m <= n; m++) {
        const proof = consistencyPath(m, n, subtree);
        const at = `${m}→${n}`;
        const ok = (a: number, b: number, p: readonly Uint8Array[], r1 = roots[a]!, r2 = roots[b]!): boolean =>
          verifyConsistency(a, b, r1, r2, p);
        // Other sizes, each against the genuine root of a log of that size.
        for (const a of [m - 1, m + 1, m + 2])
          if (a >= 1 && a <= n) c.is(ok(a, n, proof), false, `from ${a} for ${at}`);
        for (const b of [n - 1, n + 1, n + 2])
          if (b >= m && b <= MAX) c.is(ok(m, b, proof), false, `to ${b} for ${at}`);
        c.is(ok(n, m, proof), m === n, `reversed ${at}`);
        c.is(ok(0, n, proof), false, `from 0 for ${at}`);
        c.is(ok(m, n, proof, flip(roots[m]!, 0)), false, `flipped first root for ${at}`);
        c.is(ok(m, n, proof, roots[m]!, flip(roots[n]!, 31)), false, `flipped second root for ${at}`);
        if (m < n) {
          // A log that rewrote history: same size, different content.
          const forged = refMth([...entries.slice(0, m - 1), junk, ...entries.slice(m, n)]);
          c.is(ok(m, n, proof, roots[m]!, forged), false, `rewritten history for ${at}`);
        }
        for (let i = 0; i < proof.length; i++) {
          for (const byte of [0, 31])
            c.is(
              ok(
                m,
                n,
                proof.map((p, j) => (j === i ? flip(p, byte) : p)),
              ),
              false,
              `flip ${i}.${byte} of ${at}`,
            );
          c.is(
            ok(
              m,
              n,
              proof.filter((_, j) => j !== i),
            ),
            false,
            `drop ${i} of ${at}`,
          );
          c.is(ok(m, n, [...proof.slice(0, i), junk, ...proof.slice(i)]), false, `insert at ${i} of ${at}`);
        }
        c.is(ok(m, n, [...proof, junk]), false, `extended ${at}`);
        if (proof.length >= 2 && toHex(proof[0]!) !== toHex(proof[1]!))
          c.is(ok(m, n, [proof[1]!, proof[0]!, ...proof.slice(2)]), false, `swapped ${at}`);
      }
    }
    c.done();
  });

  it('refuses impossible sizes', () => {
    expect(() => consistencyPath(0, 3, subtree)).toThrow(RangeError);
    expect(() => consistencyPath(4, 3, subtree)).toThrow(RangeError);
    expect(verifyConsistency(3, 3, roots[3]!, roots[3]!, [])).toBe(true);
    expect(verifyConsistency(3, 3, roots[3]!, roots[4]!, [])).toBe(false);
    expect(verifyConsistency(3, 3, roots[3]!, roots[3]!, [junk])).toBe(false);
    expect(verifyConsistency(2, 3, roots[2]!, roots[3]!, [])).toBe(false);
    expect(verifyConsistency(Number.NaN, 3, roots[2]!, roots[3]!, [junk])).toBe(false);
  });
});

describe('multi-leaf proofs (random subsets, sizes 1..64)', () => {
  const rand = prng(9162);
  const cases: { n: number; proven: number[] }[] = [];
  for (let n = 1; n <= 64; n++) {
    for (let t = 0; t < 6; t++) {
      const density = [0.05, 0.2, 0.5, 0.9, 1, 0][t]!;
      const set = new Set<number>();
      for (let i = 0; i < n; i++) if (rand() < density) set.add(i);
      if (set.size === 0) set.add(Math.floor(rand() * n));
      cases.push({ n, proven: [...set].sort((a, b) => a - b) });
    }
  }
  const leafMap = (proven: readonly number[]): Map<number, Uint8Array> =>
    new Map(proven.map((i) => [i, leaves[i]!] as const));

  it('sends exactly the naive maximal subtrees and rebuilds the root from them', () => {
    for (const { n, proven } of cases) {
      const nodes = multiInclusionNodes(proven, n, subtree);
      expect(hex(nodes), `nodes ${n} ${proven}`).toEqual(hex(refMultiNodes(new Set(proven), entries.slice(0, n))));
      const root = rootFromMultiInclusion(leafMap(proven), n, nodes);
      expect(root && toHex(root), `root ${n} ${proven}`).toBe(toHex(roots[n]!));
      // Never more than one audit path's worth of nodes per proven leaf, and nothing computable.
      expect(nodes.length).toBeLessThanOrEqual(proven.length * Math.ceil(Math.log2(n) || 1));
    }
  });

  it('fails when any node is removed, added, changed or moved, or a leaf is wrong', () => {
    for (const { n, proven } of cases) {
      const nodes = multiInclusionNodes(proven, n, subtree);
      const rebuilds = (ns: readonly Uint8Array[], ls = leafMap(proven)): boolean => {
        const r = rootFromMultiInclusion(ls, n, ns);
        return r !== undefined && toHex(r) === toHex(roots[n]!);
      };
      for (let i = 0; i < nodes.length; i++) {
        expect(rebuilds(nodes.filter((_, j) => j !== i)), `remove ${i}`).toBe(false);
        expect(rebuilds(nodes.map((p, j) => (j === i ? flip(p, 5) : p))), `change ${i}`).toBe(false);
        if (i + 1 < nodes.length) {
          const swapped = [...nodes];
          [swapped[i], swapped[i + 1]] = [swapped[i + 1]!, swapped[i]!];
          expect(rebuilds(swapped), `swap ${i}`).toBe(false);
        }
      }
      for (let i = 0; i <= nodes.length; i++)
        expect(rebuilds([...nodes.slice(0, i), junk, ...nodes.slice(i)]), `add at ${i}`).toBe(false);
      const wrong = leafMap(proven);
      wrong.set(proven[0]!, junk);
      expect(rebuilds(nodes, wrong)).toBe(false);
      // Claiming one more leaf, or one fewer, cannot reuse the same nodes.
      const fewer = leafMap(proven.slice(1));
      if (fewer.size > 0) expect(rebuilds(nodes, fewer)).toBe(false);
      const extra = proven.length < n ? [...Array(n).keys()].find((i) => !proven.includes(i)) : undefined;
      if (extra !== undefined)
        expect(rebuilds(nodes, new Map([...leafMap(proven), [extra, leaves[extra]!]]))).toBe(false);
    }
  });

  it('rejects empty, duplicate and out-of-range leaf sets', () => {
    expect(() => multiInclusionNodes([], 4, subtree)).toThrow(RangeError);
    expect(() => multiInclusionNodes([1, 1], 4, subtree)).toThrow(RangeError);
    expect(() => multiInclusionNodes([4], 4, subtree)).toThrow(RangeError);
    expect(rootFromMultiInclusion(new Map(), 4, [])).toBeUndefined();
    expect(rootFromMultiInclusion(new Map([[4, leaves[4]!]]), 4, [])).toBeUndefined();
    expect(rootFromMultiInclusion(new Map([[0, leaves[0]!]]), Number.NaN, [roots[1]!])).toBeUndefined();
    expect(rootFromMultiInclusion(new Map([[0, leaves[0]!]]), 0, [])).toBeUndefined();
  });
});
