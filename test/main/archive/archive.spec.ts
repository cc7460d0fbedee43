import {
  chmodSync,
  lstatSync,
  lutimesSync,
  readFileSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { getEventListeners } from 'node:events';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeTree, makeTree, prose, sha256hex, writeFile } from '../../helpers/files.js';
import { seeded, tempDir } from '../../helpers/tmp.js';
import { Archive } from '../../../main/archive/archive.js';
import { utimeSeconds } from '../../../main/util/file-times.js';
import { directoryCache, pathKey } from '../../../main/archive/file-cache.js';
import { openArchive, readAll } from '../../helpers/archive.js';

describe('archive: store, get, restore', () => {
  it('stores a tree and returns every file byte for byte', async () => {
    const src = tempDir();
    const files = makeTree(src);
    const a = await openArchive();
    const { results, problems } = await a.store([src]);
    expect(problems).toEqual([]);
    // One result per file, then the snapshot, in walk order.
    expect(results.length).toBe(Object.keys(files).length + 1);
    expect(results.at(-1)!.kind).toBe('snapshot');
    for (const r of results.slice(0, -1)) {
      const rel = r.path.slice(src.length + 1);
      expect(sha256hex(await readAll(a, r.hash))).toBe(sha256hex(files[rel]!));
    }
  });

  it('stores files named one by one together, in the order named, around a directory and a bad name', async () => {
    const src = tempDir();
    const named = Array.from({ length: 150 }, (_, i) => {
      const path = join(src, `n${i}.txt`);
      writeFileSync(path, prose(200 + i, i));
      return path;
    });
    const tree = tempDir();
    makeTree(tree);
    const missing = join(src, 'missing.txt');
    const a = await Archive.open({ dir: tempDir(), workers: 2, commitDelayMs: 50 });
    try {
      const commits = a.ingester().committer.commits;
      const before = Atomics.load(commits, 0);
      const paths = [...named.slice(0, 100), missing, tree, ...named.slice(100)];
      const { results, problems } = await a.store(paths);
      expect(problems.map((p) => [p.path, p.code])).toEqual([[missing, 'ENOENT']]);
      const files = results.filter((r) => !r.path.startsWith(tree));
      expect(files.map((r) => r.path)).toEqual(named); // in the order named
      // The directory's results (its snapshot last) come between the two runs of files.
      const at = results.findIndex((r) => r.path.startsWith(tree));
      expect(results.slice(0, at).map((r) => r.path)).toEqual(named.slice(0, 100));
      expect(results.at(-51)!).toMatchObject({ kind: 'snapshot', path: `${tree}/` });
      for (const [i, r] of files.entries())
        expect((await readAll(a, r.hash)).equals(readFileSync(named[i]!))).toBe(true);
      // Stored together, not each in a commit of its own (one after another, each committed alone).
      expect(Atomics.load(commits, 0) - before).toBeLessThan(30);
    } finally {
      await a.close();
    }
  });

  it('a store given an AbortSignal holds one listener on it, whatever the files in flight, and none after', async () => {
    const src = tempDir();
    for (let i = 0; i < 1200; i++) writeFile(src, `d${i % 7}/f${i}.txt`, prose(300 + i, i));
    const warnings: Error[] = [];
    const onWarning = (w: Error): number => warnings.push(w);
    process.on('warning', onWarning);
    try {
      const a = await openArchive();
      const ac = new AbortController();
      let most = 0;
      const { results, problems } = await a.store([src], {
        signal: ac.signal,
        onResult: () => (most = Math.max(most, getEventListeners(ac.signal, 'abort').length)),
      });
      expect(problems).toEqual([]);
      expect(results.length).toBe(1200 + 1);
      expect(most).toBe(1);
      expect(getEventListeners(ac.signal, 'abort')).toEqual([]);
      await new Promise((r) => setImmediate(r));
      expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('aborted mid-store: rejects, tells the files cut off as problems, and keeps every file it reported', async () => {
    const src = tempDir();
    const files = new Map<string, Buffer>();
    for (let i = 0; i < 2000; i++) {
      const data = Buffer.from(prose(2000 + i, i));
      files.set(writeFile(src, `f${String(i).padStart(4, '0')}.txt`, data), data);
    }
    const a = await openArchive();
    const ac = new AbortController();
    const reported: { path: string; hash: string }[] = [];
    const problems: { path: string; code: string }[] = [];
    const store = a.store([src], {
      signal: ac.signal,
      onResult: (r) => {
        reported.push(r);
        if (reported.length === 1) ac.abort();
      },
      onProblem: (p) => problems.push(p),
    });
    await expect(store).rejects.toMatchObject({ name: 'AbortError' });
    const told = [reported.length, problems.length];
    await a.ingester().committer.flush();
    expect([reported.length, problems.length]).toEqual(told); // nothing told after the store returned
    expect(reported.length).toBeLessThan(2000);
    expect(problems.length).toBeGreaterThan(0); // files still being read when it was aborted
    expect(new Set(problems.map((p) => p.code))).toEqual(new Set(['AbortError']));
    for (const r of reported) expect((await readAll(a, r.hash)).equals(files.get(r.path)!)).toBe(true);
    expect((await a.check()).ok).toBe(true);
  });

  it('keeps an object of hundreds of chunks, repeats included, whole and in order', async () => {
    // Tiny chunks: the chunk list goes in 64 rows per statement plus a remainder, and the content
    // root is built as ids arrive. Reading back checks both against the block (count and root).
    const dir = tempDir();
    const a = await Archive.open({ dir, workers: 2, commitDelayMs: 5, chunker: { min: 64, avg: 256, max: 1024 } });
    try {
      const rand = seeded(42);
      const random = Buffer.from(Array.from({ length: 120_000 }, () => Math.floor(rand() * 256)));
      const repeated = Buffer.concat(Array.from({ length: 60 }, () => random.subarray(0, 2048)));
      const src = tempDir();
      writeFileSync(join(src, 'random.bin'), random);
      writeFileSync(join(src, 'repeated.bin'), repeated);
      writeFileSync(join(src, 'zeros.bin'), Buffer.alloc(8192)); // one chunk, again and again from the first
      const { results, problems } = await a.store(['random.bin', 'repeated.bin', 'zeros.bin'].map((n) => join(src, n)));
      expect(problems).toEqual([]);
      const counts = results.map((r) => a.block(r.hash).header.chunkCount);
      expect(counts[0]).toBeGreaterThan(200);
      expect(counts[0]! % 64).not.toBe(0);
      // The same 2 KiB sixty times: chunk ids repeat in the list.
      expect(counts[1]).toBeGreaterThan(64);
      // A stored size counts each distinct chunk once.
      const distinctStored = a.ctx.db
        .prepare('SELECT sum(stored_len) FROM chunks WHERE rid IN (SELECT chunk FROM object_chunks WHERE seq = ?)')
        .pluck();
      for (const r of results.slice(1)) {
        expect(a.block(r.hash).header.chunkCount).toBeGreaterThan(1);
        expect(r.storedSize).toBe(distinctStored.get(a.ctx.index.seqOf(Buffer.from(r.hash, 'hex'))));
      }
      expect(sha256hex(await readAll(a, results[0]!.hash))).toBe(sha256hex(random));
      expect(sha256hex(await readAll(a, results[1]!.hash))).toBe(sha256hex(repeated));
      expect((await a.check()).ok).toBe(true);
    } finally {
      await a.close();
    }
  });

  it('walks a directory in byte order of its UTF-8 names, however many it holds', async () => {
    const src = tempDir();
    // Bytes order U+FF5A (EF BD 9A) before 😀 (F0 9F …); UTF-16 code units order them the other way.
    const odd = ['😀', 'ｚ', 'é', 'z', 'a', 'B'];
    for (const n of odd) writeFileSync(join(src, n), n);
    // Enough names for the directory to be read in several slices.
    for (let i = 0; i < 1_500; i++) writeFileSync(join(src, `f${i}`), '');
    const a = await openArchive();
    const { results, problems } = await a.store([src]);
    expect(problems).toEqual([]);
    const names = results.filter((r) => r.kind === 'file').map((r) => r.path.slice(src.length + 1));
    const bytes = [...names].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    expect(names).toEqual(bytes);
    expect(names.filter((n) => odd.includes(n))).toEqual(['B', 'a', 'z', 'é', 'ｚ', '😀']);
    // Without a character beyond the BMP, UTF-16 order is byte order: the same result.
    const bmp = tempDir();
    for (const n of ['ｚ', 'é', 'ÿ', 'Ā', 'z', 'a-b', 'ab', 'a', 'B', '_', '~']) writeFileSync(join(bmp, n), n);
    const again = (await a.store([bmp])).results.filter((r) => r.kind === 'file');
    expect(again.map((r) => r.path.slice(bmp.length + 1))).toEqual([
      'B',
      '_',
      'a',
      'a-b',
      'ab',
      'z',
      '~',
      'é',
      'ÿ',
      'Ā',
      'ｚ',
    ]);
  });

  it('dedups identical content across files and versions', async () => {
    const src = tempDir();
    const a = await openArchive();
    const big = prose(2_000_000, 9);
    writeFile(src, 'a.txt', big);
    await a.store([join(src, 'a.txt')]);
    const before = a.stats();
    writeFile(src, 'b.txt', big);
    await a.store([join(src, 'b.txt')]);
    const after = a.stats();
    expect(after.objects).toBe(before.objects + 1);
    expect(after.chunks).toBe(before.chunks);
    expect(after.storedBytes).toBe(before.storedBytes);
    expect(after.dedupSavedBytes).toBe(before.dedupSavedBytes + big.length);
    // A one-byte edit in the middle only adds the chunks around it.
    const edited = Buffer.from(big);
    edited[1_000_000] = edited[1_000_000]! ^ 1;
    writeFile(src, 'c.txt', edited);
    await a.store([join(src, 'c.txt')]);
    const third = a.stats();
    expect(third.chunks - after.chunks).toBeGreaterThan(0);
    expect(third.chunks - after.chunks).toBeLessThanOrEqual(3);
    expect(after.compressionSavedBytes).toBeGreaterThan(0);
    // Every block links the one before it, so the newest is the DAG's only tip.
    expect([before.tips, after.tips, third.tips]).toEqual([1, 1, 1]);
    expect(third.blocks).toBe(4);
  });

  it('stores identical new files in one store as one block, whichever commits first', async () => {
    const src = tempDir();
    const body = prose(300_000, 21); // new content: its chunks are put by this store
    const when = new Date('2024-05-06T07:08:09Z');
    for (const d of ['d1', 'd2', 'd3']) {
      writeFile(join(src, d), 'same.txt', body);
      utimesSync(join(src, d, 'same.txt'), when, when);
    }
    writeFile(join(src, 'd4'), 'other.txt', body); // same content, another name: its own block
    const a = await openArchive();
    const before = a.stats().blocks;
    const { results, problems } = await a.store([src]);
    expect(problems).toEqual([]);
    const files = results.filter((r) => r.kind === 'file');
    expect(new Set(files.slice(0, 3).map((r) => r.hash)).size).toBe(1);
    expect(files[3]!.hash).not.toBe(files[0]!.hash);
    expect(files.filter((r) => r.reused).length).toBe(2);
    expect(a.stats().blocks).toBe(before + 2 + 1); // two file blocks and the snapshot
    expect((await a.check()).problems).toEqual([]);
  });

  it('re-storing an unchanged tree adds no block; a changed file adds one', async () => {
    const src = tempDir();
    // Written a minute ago: files modified in the last two seconds get no fast-path record (below).
    const past = new Date(Date.now() - 60_000);
    for (const rel of Object.keys(makeTree(src))) utimesSync(join(src, rel), past, past);
    const a = await openArchive();
    const first = await a.store([src]);
    const blocks = a.stats().blocks;
    const second = await a.store([src]);
    expect(second.results.map((r) => r.hash)).toEqual(first.results.map((r) => r.hash));
    expect(second.results.filter((r) => r.kind === 'file').every((r) => r.fast)).toBe(true);
    expect(a.stats().blocks).toBe(blocks);
    writeFile(src, 'deeds/deed-002.txt', prose(50_001, 2));
    const third = await a.store([src]);
    expect(a.stats().blocks).toBe(blocks + 2); // the new version and a new snapshot
    const changed = third.results.find((r) => r.path.endsWith('deed-002.txt'))!;
    expect(changed.hash).not.toBe(first.results.find((r) => r.path.endsWith('deed-002.txt'))!.hash);
  });

  it('trusts no fast-path record of a file modified as the store began: a same-size edit in the same mtime is stored', async () => {
    // A clock that ticks coarsely (or a file system that keeps whole seconds) gives two writes in a
    // row the same mtime. Were the first write's bytes recorded as that mtime's content, the second
    // would be missed for good: same size, mtime, inode and mode.
    const src = tempDir();
    const f = writeFile(src, 'ledger.txt', 'balance: 100\n');
    const a = await openArchive();
    const mtime = new Date(Date.now() - 200); // whole milliseconds, so that utimes can give it again
    utimesSync(f, mtime, mtime);
    const first = (await a.store([f])).results[0]!;
    writeFileSync(f, 'balance: 999\n'); // same size
    utimesSync(f, mtime, mtime); // and the same mtime, as a coarse clock would give it
    const second = (await a.store([f])).results[0]!;
    expect(second.fast).toBeUndefined();
    expect(second.hash).not.toBe(first.hash);
    expect((await readAll(a, second.hash)).toString()).toBe('balance: 999\n');
    // Once its mtime is older than the store by more than the margin, the file is recorded.
    const old = new Date(Date.now() - 10_000);
    utimesSync(f, old, old);
    const third = (await a.store([f])).results[0]!;
    expect(third.fast).toBeUndefined();
    const fourth = (await a.store([f])).results[0]!;
    expect(fourth).toEqual({ ...third, reused: true, fast: true });
  });

  it("reads a directory's fast-path records with one query: its own files, none of another's", async () => {
    const src = tempDir();
    const past = new Date(Date.now() - 60_000); // old enough to be recorded (see the racy rule)
    for (const n of ['a.txt', 'b.txt', 'é 1.txt'])
      utimesSync(writeFile(join(src, 'one'), n, prose(2_000, n.length)), past, past);
    utimesSync(writeFile(join(src, 'two'), 'a.txt', prose(2_000, 9)), past, past);
    const a = await openArchive();
    expect(directoryCache(a.ctx, join(src, 'one')).size).toBe(0);
    const { results } = await a.store([src]);
    const one = directoryCache(a.ctx, join(src, 'one'));
    expect([...one.keys()].sort()).toEqual(
      ['a.txt', 'b.txt', 'é 1.txt'].map((n) => pathKey(join(src, 'one', n))).sort(),
    );
    const row = one.get(pathKey(join(src, 'one', 'b.txt')))!;
    expect(row.hash.toString('hex')).toBe(results.find((r) => r.path.endsWith('one/b.txt'))!.hash);
    expect(row.size).toBe(BigInt(statSync(join(src, 'one', 'b.txt')).size));
    expect([...directoryCache(a.ctx, join(src, 'two')).keys()]).toEqual([pathKey(join(src, 'two', 'a.txt'))]);
    expect(directoryCache(a.ctx, src).size).toBe(0); // holds only directories
  });

  it('restores a snapshot exactly: contents, modes, mtimes, symlinks as links', async () => {
    const src = tempDir();
    makeTree(src);
    chmodSync(join(src, 'deeds/deed-001.txt'), 0o600);
    symlinkSync('/etc/passwd', join(src, 'link-outside'));
    symlinkSync('deeds/deed-002.txt', join(src, 'link-inside'));
    utimesSync(join(src, 'empty.txt'), new Date(1_600_000_000_000), new Date(1_600_000_000_000));
    // Whole ms that seconds in a double would set a microsecond early (see utimeSeconds).
    const linkTime = utimeSeconds(1_761_594_985_360);
    const dirTime = utimeSeconds(1_753_241_764_518);
    lutimesSync(join(src, 'link-inside'), linkTime, linkTime);
    utimesSync(join(src, 'deeds'), dirTime, dirTime);
    expect(lstatSync(join(src, 'link-inside'), { bigint: true }).mtimeNs).toBe(1_761_594_985_360_000_000n);
    const a = await openArchive();
    const { results } = await a.store([src]);
    const link = results.find((r) => r.path.endsWith('link-outside'))!;
    expect(link.kind).toBe('symlink');
    expect((await readAll(a, link.hash)).toString()).toBe('/etc/passwd'); // recorded, not followed
    const out = join(tempDir(), 'restored');
    const s = await a.restore(results.at(-1)!.hash, out);
    expect(s.symlinks).toBe(2);
    expect(describeTree(out)).toEqual(describeTree(src));
    expect(statSync(join(out, 'empty.txt')).mtimeMs).toBe(1_600_000_000_000);
    const mtimeNs = (p: string): bigint => lstatSync(join(out, p), { bigint: true }).mtimeNs;
    expect(mtimeNs('link-inside')).toBe(1_761_594_985_360_000_000n); // the link's own, not its target's
    expect(mtimeNs('deeds')).toBe(1_753_241_764_518_000_000n);
  });

  it('stores a single file and restores it by name, with its mode and mtime; a symlink too', async () => {
    const src = tempDir();
    const p = writeFile(src, 'deed.txt', prose(10_000));
    chmodSync(p, 0o640);
    const fileTime = utimeSeconds(1_779_944_804_715);
    utimesSync(p, fileTime, fileTime);
    const l = join(src, 'to-deed');
    symlinkSync('deed.txt', l);
    const linkTime = utimeSeconds(1_761_594_985_360);
    lutimesSync(l, linkTime, linkTime);
    const a = await openArchive();
    const { results } = await a.store([p, l]);
    const out = tempDir();
    await a.restore(results[0]!.hash, out);
    await a.restore(results[1]!.hash, out);
    expect(readFileSync(join(out, 'deed.txt')).equals(readFileSync(p))).toBe(true);
    const file = lstatSync(join(out, 'deed.txt'), { bigint: true });
    expect(Number(file.mode) & 0o777).toBe(0o640);
    expect(file.mtimeNs).toBe(1_779_944_804_715_000_000n);
    const link = lstatSync(join(out, 'to-deed'), { bigint: true });
    expect(link.isSymbolicLink()).toBe(true);
    expect(link.mtimeNs).toBe(1_761_594_985_360_000_000n);
  });

  it('reports unknown and malformed hashes by name', async () => {
    const a = await openArchive();
    expect(() => a.block('ab'.repeat(32))).toThrow(expect.objectContaining({ name: 'UnknownHashError' }));
    expect(() => a.block('xyz')).toThrow(expect.objectContaining({ name: 'InvalidHashError' }));
  });

  it('reports paths it cannot store and stores the rest', async () => {
    const src = tempDir();
    writeFile(src, 'ok.txt', 'fine');
    const a = await openArchive();
    const { results, problems } = await a.store([join(src, 'ok.txt'), join(src, 'missing.txt')]);
    expect(results.map((r) => r.path)).toEqual([join(src, 'ok.txt')]);
    expect(problems).toEqual([expect.objectContaining({ path: join(src, 'missing.txt'), code: 'ENOENT' })]);
  });
});
