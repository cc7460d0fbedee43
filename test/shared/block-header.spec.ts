/**
 * The block header's canonical encoding: round trips, strict decoding, hash sensitivity to every
 * field, strict JSON parsing, and the published test vector in docs/test-vectors/block-v1.json.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { describe, expect, it } from 'vitest';
import {
  type BlockHeader,
  type BlockHeaderJson,
  decodeHeader,
  encodeHeader,
  hashHeader,
  headerFromJson,
  headerToJson,
} from '../../shared/block-header.js';
import { FieldReader, FieldWriter, compareBytes, fromHex, toHex } from '../../shared/bytes.js';
import { sha256 } from '../../shared/hash.js';

const nodeSha = (b: Uint8Array): Uint8Array => new Uint8Array(createHash('sha256').update(b).digest());
const h32 = (label: string): Uint8Array => nodeSha(new TextEncoder().encode(label));
const sorted = (hs: Uint8Array[]): Uint8Array[] => [...hs].sort(compareBytes);

/** A header that exercises every field, including keys whose UTF-8 and UTF-16 orders differ. */
function sample(): BlockHeader {
  return {
    version: 1,
    kind: 'file',
    parents: sorted([h32('p1'), h32('p2'), h32('p3')]),
    depth: 9,
    timestamp: 1_764_000_000_000,
    contentRoot: h32('content'),
    size: 2 ** 40 + 7,
    storedSize: 123_456,
    chunkCount: 17,
    codec: 'zstd-3',
    meta: { name: 'deed.pdf', mode: '100644', mtime: '1763999999000', '\uff46': 'fullwidth', '😀': 'astral', a: '' },
  };
}

const throwsHeaderError = (f: () => unknown): void => {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(err, 'expected a HeaderFormatError').toBeInstanceOf(Error);
  expect((err as Error).name).toBe('HeaderFormatError');
  expect((err as { code?: string }).code).toBe('ERR_HEADER_FORMAT');
};

/** Writes a header's fields by hand, in order, so decode can be fed encodings encodeHeader refuses to make. */
function rawEncoding(o: {
  parents?: Uint8Array[];
  meta?: [string, string][];
  domain?: string;
  version?: number;
  kind?: string;
}): Uint8Array {
  const h = sample();
  const w = new FieldWriter()
    .string(o.domain ?? 'pakit/block/v1')
    .u64(o.version ?? 1)
    .string(o.kind ?? h.kind)
    .list(o.parents ?? [...h.parents])
    .u64(h.depth)
    .u64(h.timestamp)
    .bytes(h.contentRoot)
    .u64(h.size)
    .u64(h.storedSize)
    .u64(h.chunkCount)
    .string(h.codec);
  const meta = o.meta ?? [['a', 'b']];
  w.u64(meta.length);
  for (const [k, v] of meta) w.string(k).string(v);
  return w.finish();
}

describe('encoding', () => {
  it('round-trips and re-encodes to the same bytes', () => {
    const h = sample();
    const enc = encodeHeader(h);
    const back = decodeHeader(enc);
    expect(headerToJson(back)).toEqual(headerToJson(h));
    expect(toHex(encodeHeader(back))).toBe(toHex(enc));
    expect(toHex(hashHeader(h))).toBe(toHex(nodeSha(enc)));
    // Meta key order in the object does not matter; the encoding sorts by UTF-8 bytes.
    const shuffled = { ...h, meta: Object.fromEntries(Object.entries(h.meta).reverse()) };
    expect(toHex(encodeHeader(shuffled))).toBe(toHex(enc));
  });

  it('reads 8-byte integers below 2^32 as small integers, larger ones exactly', () => {
    // V8 keeps a small integer in an object's field as it is, a heap number boxed: decoded headers
    // holding heap numbers (even 0) gave every header another hidden class.
    setFlagsFromString('--allow-natives-syntax');
    const isSmi = new Function('n', 'return %IsSmi(n)') as (n: number) => boolean;
    const values = [0, 7, 2 ** 31 - 1, 2 ** 32 + 1, 2 ** 53 - 1];
    const w = new FieldWriter();
    for (const v of values) w.u64(v);
    const bytes = w.finish();
    const r = new FieldReader(bytes);
    // Each value checked as read (an array holding a larger one would box them all).
    const smi = values.map((_, i) => isSmi(r.u64(`v${i}`)));
    expect(smi).toEqual([true, true, true, false, false]);
    const again = new FieldReader(bytes);
    expect(values.map((_, i) => again.u64(`v${i}`))).toEqual(values);
  });

  it('field writers share one buffer in turn without mixing their bytes', () => {
    const a = new FieldWriter().string('first');
    const b = new FieldWriter().u64(7); // a holds the lent buffer: b has its own
    const outA = a.finish(); // a's buffer is lent to the next writer
    const c = new FieldWriter().bytes(new Uint8Array(600).fill(9)); // outgrows it
    expect(toHex(outA)).toBe('000000056669727374');
    a.string('again'); // a misuse, but it must not write into c's or anyone's buffer
    expect(toHex(b.finish())).toBe('000000080000000000000007');
    const outC = c.finish();
    expect(outC.length).toBe(604);
    expect(outC.subarray(4).every((x) => x === 9)).toBe(true);
    expect(toHex(a.finish())).toBe('00000005616761696e');
    expect(toHex(new FieldWriter().string('x').finish())).toBe('0000000178');
  });

  it('hashHeader hashes the encoding where it is written: the same bytes, and the buffer is lent on', () => {
    const seen: string[] = [];
    const spy = (b: Uint8Array): Uint8Array => {
      seen.push(toHex(b));
      return nodeSha(b);
    };
    // One header that fits the lent buffer, one that outgrows it (a long name), one after both.
    const big = { ...sample(), meta: { name: 'n'.repeat(5000) } };
    for (const h of [sample(), big, sample()]) {
      expect(toHex(hashHeader(h, spy))).toBe(toHex(nodeSha(encodeHeader(h))));
      const bytes = seen.pop()!;
      expect(bytes).toBe(toHex(encodeHeader(h)));
      // The whole encoding, not a part: it decodes back to the header.
      expect(headerToJson(decodeHeader(fromHex(bytes)!))).toEqual(headerToJson(h));
    }
    // The view handed to `use` is the writer's own buffer: the next writer writes over it.
    let view: Uint8Array | undefined;
    const first = new FieldWriter().string('first').finishWith((b) => {
      view = b;
      return toHex(b);
    });
    expect(first).toBe('000000056669727374');
    expect(toHex(new FieldWriter().string('other').finish())).toBe('000000056f74686572');
    expect(toHex(view!)).toBe('000000056f74686572');
  });

  it('sorts metadata keys by UTF-8 bytes, not UTF-16 code units', () => {
    const keys = Object.keys(headerToJson(sample()).meta);
    // U+FF46 is EF BD 86 in UTF-8, the emoji F0 9F 98 80; in UTF-16 the emoji's surrogate (D83D) comes first.
    expect(keys.indexOf('\uff46')).toBeLessThan(keys.indexOf('😀'));
    expect(['\uff46', '😀'].sort()).toEqual(['😀', '\uff46']);
  });

  it('rejects trailing bytes', () => {
    const enc = encodeHeader(sample());
    throwsHeaderError(() => decodeHeader(new Uint8Array([...enc, 0])));
    throwsHeaderError(() => decodeHeader(new Uint8Array([...enc, 0, 0, 0, 0])));
  });

  it('rejects truncation at every byte', () => {
    const enc = encodeHeader(sample());
    for (let i = 0; i < enc.length; i++) throwsHeaderError(() => decodeHeader(enc.subarray(0, i)));
  });

  it('rejects unsorted or duplicate parents and unsorted or duplicate metadata', () => {
    const [a, b, c] = sample().parents as Uint8Array[];
    expect(() => decodeHeader(rawEncoding({}))).not.toThrow();
    throwsHeaderError(() => decodeHeader(rawEncoding({ parents: [b!, a!, c!] })));
    throwsHeaderError(() => decodeHeader(rawEncoding({ parents: [a!, a!, c!] })));
    throwsHeaderError(() =>
      decodeHeader(
        rawEncoding({
          meta: [
            ['b', '1'],
            ['a', '2'],
          ],
        }),
      ),
    );
    throwsHeaderError(() =>
      decodeHeader(
        rawEncoding({
          meta: [
            ['a', '1'],
            ['a', '2'],
          ],
        }),
      ),
    );
    // UTF-16 order is not the canonical order.
    throwsHeaderError(() =>
      decodeHeader(
        rawEncoding({
          meta: [
            ['😀', '1'],
            ['\uff46', '2'],
          ],
        }),
      ),
    );
  });

  it('rejects other structures, versions, kinds and reserved keys', () => {
    throwsHeaderError(() => decodeHeader(rawEncoding({ domain: 'pakit/checkpoint/v1' })));
    throwsHeaderError(() => decodeHeader(rawEncoding({ version: 2 })));
    throwsHeaderError(() => decodeHeader(rawEncoding({ kind: 'directory' })));
    throwsHeaderError(() => decodeHeader(rawEncoding({ kind: 'genesis' })));
    throwsHeaderError(() => decodeHeader(rawEncoding({ meta: [['__proto__', 'x']] })));
    throwsHeaderError(() =>
      decodeHeader(rawEncoding({ parents: [h32('only'), new Uint8Array(31)].sort(compareBytes) })),
    );
    throwsHeaderError(() => decodeHeader(new Uint8Array(0)));
  });
});

describe('hash sensitivity', () => {
  /** Every single-field change to the sample, each still a valid header. */
  function variants(): [string, BlockHeader][] {
    const h = sample();
    const out: [string, BlockHeader][] = [];
    const add = (name: string, patch: Partial<BlockHeader>): void => {
      out.push([name, { ...h, ...patch }]);
    };
    add('kind', { kind: 'snapshot' });
    add('kind symlink', { kind: 'symlink' });
    h.parents.forEach((p, i) => {
      const q = Uint8Array.from(p);
      q[31]! ^= 1;
      add(`parents[${i}]`, { parents: sorted(h.parents.map((x, j) => (j === i ? q : x))) });
      add(`parents without [${i}]`, { parents: h.parents.filter((_, j) => j !== i) });
    });
    add('one more parent', { parents: sorted([...h.parents, h32('p4')]) });
    add('depth', { depth: h.depth + 1 });
    add('timestamp', { timestamp: h.timestamp + 1 });
    const root = Uint8Array.from(h.contentRoot);
    root[0]! ^= 0x80;
    add('contentRoot', { contentRoot: root });
    add('size', { size: h.size + 1 });
    add('storedSize', { storedSize: h.storedSize + 1 });
    add('chunkCount', { chunkCount: h.chunkCount + 1 });
    add('codec', { codec: 'zstd-4' });
    add('codec raw', { codec: 'raw' });
    for (const k of Object.keys(h.meta)) {
      add(`meta ${k} value`, { meta: { ...h.meta, [k]: `${h.meta[k]}x` } });
      const renamed = Object.fromEntries(Object.entries(h.meta).map(([kk, v]) => [kk === k ? `${kk}x` : kk, v]));
      add(`meta ${k} key`, { meta: renamed });
      add(`meta without ${k}`, { meta: Object.fromEntries(Object.entries(h.meta).filter(([kk]) => kk !== k)) });
    }
    add('meta extra', { meta: { ...h.meta, extra: '' } });
    // Boundary shifts: the same characters split differently between key and value, or between entries.
    add('meta boundary', { meta: { ...h.meta, mode: '10064', mode4: '' } });
    return out;
  }

  it('changes when any field, parent, metadata key or value changes', () => {
    const base = toHex(hashHeader(sample()));
    const seen = new Map<string, string>([[base, 'sample']]);
    for (const [name, v] of variants()) {
      const hh = toHex(hashHeader(v));
      expect(seen.get(hh), `${name} collides`).toBeUndefined();
      seen.set(hh, name);
    }
    expect(seen.size).toBeGreaterThan(30);
  });

  it('refuses to encode a header with a changed version', () => {
    throwsHeaderError(() => encodeHeader({ ...sample(), version: 2 }));
  });
});

describe('headerFromJson', () => {
  const good = (): Record<string, unknown> => headerToJson(sample()) as unknown as Record<string, unknown>;

  it('round-trips', () => {
    const h = headerFromJson(good());
    expect(toHex(encodeHeader(h))).toBe(toHex(encodeHeader(sample())));
  });

  it('rejects unknown and missing keys', () => {
    throwsHeaderError(() => headerFromJson({ ...good(), extra: 1 }));
    throwsHeaderError(() => headerFromJson({ ...good(), hash: toHex(h32('x')) }));
    for (const k of Object.keys(good())) {
      const j = good();
      delete j[k];
      throwsHeaderError(() => headerFromJson(j));
    }
  });

  it('rejects wrong types for every field', () => {
    const notNumber = [null, '1', 1.5, -1, [], {}, true, 2 ** 53, 1e400];
    const notString = [null, 1, [], {}, true];
    const wrong: Record<string, unknown[]> = {
      version: [...notNumber, 0, 2],
      kind: [...notString, 'directory', 'FILE', ''],
      parents: [null, 'abc', {}, [1], [null], ['A'.repeat(64)], true],
      depth: [...notNumber, 0],
      timestamp: notNumber,
      contentRoot: [...notString, 'a'.repeat(63)],
      size: notNumber,
      storedSize: notNumber,
      chunkCount: notNumber,
      codec: [...notString, '', 'x'.repeat(65)],
      meta: [null, [], 'x', 1, { a: 1 }, { a: null }, { '': 'empty key' }],
    };
    expect(Object.keys(wrong).sort()).toEqual(Object.keys(good()).sort());
    for (const [k, values] of Object.entries(wrong)) {
      for (const w of values) {
        const j = good();
        j[k] = w;
        throwsHeaderError(() => headerFromJson(j));
      }
    }
    throwsHeaderError(() => headerFromJson(null));
    throwsHeaderError(() => headerFromJson([]));
    throwsHeaderError(() => headerFromJson('header'));
  });

  it('rejects uppercase, short, long and odd hex', () => {
    const j = good() as unknown as BlockHeaderJson;
    for (const bad of [
      j.contentRoot.toUpperCase(),
      j.contentRoot.slice(0, 63),
      `${j.contentRoot}0`,
      `${j.contentRoot.slice(0, 62)}zz`,
      ` ${j.contentRoot.slice(1)}`,
    ]) {
      throwsHeaderError(() => headerFromJson({ ...j, contentRoot: bad }));
      throwsHeaderError(() => headerFromJson({ ...j, parents: [bad, ...j.parents.slice(1)] }));
    }
  });

  it('rejects unsorted parents, non-string metadata and the reserved __proto__ key', () => {
    const j = good() as unknown as BlockHeaderJson;
    throwsHeaderError(() => headerFromJson({ ...j, parents: [...j.parents].reverse() }));
    throwsHeaderError(() => headerFromJson({ ...j, meta: { ...j.meta, n: 1 } }));
    // JSON.parse makes "__proto__" an own key; a plain-object copy would silently drop it.
    const withProto = JSON.parse(`{"meta":{"__proto__":"x","a":"b"}}`) as { meta: unknown };
    throwsHeaderError(() => headerFromJson({ ...j, meta: withProto.meta }));
  });
});

describe('published test vector (docs/test-vectors/block-v1.json)', () => {
  const file = JSON.parse(readFileSync(new URL('../../docs/test-vectors/block-v1.json', import.meta.url), 'utf8')) as {
    header: unknown;
    encoding: string;
    hash: string;
  };

  it('recomputes the encoding and hash from the JSON header', () => {
    const h = headerFromJson(file.header);
    expect(toHex(encodeHeader(h))).toBe(file.encoding);
    expect(toHex(hashHeader(h))).toBe(file.hash);
    // Independently of shared/: node's SHA-256 of the published bytes.
    expect(toHex(nodeSha(fromHex(file.encoding)!))).toBe(file.hash);
    expect(headerToJson(decodeHeader(fromHex(file.encoding)!))).toEqual(file.header);
  });

  it('starts with the length-prefixed domain tag', () => {
    const tag = Buffer.from('pakit/block/v1').toString('hex');
    expect(file.encoding.startsWith(`0000000e${tag}`)).toBe(true);
  });
});

describe('SHA-256 implementations agree', () => {
  it('@noble/hashes equals node:crypto on random inputs, across block boundaries', () => {
    const lengths = [0, 1, 31, 32, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 1000, 65_536, 1_000_003];
    for (let i = 0; i < 200; i++) lengths.push(Math.floor(Math.random() * 4096));
    for (const n of lengths) {
      const b = new Uint8Array(randomBytes(n));
      expect(toHex(sha256(b)), `length ${n}`).toBe(toHex(nodeSha(b)));
    }
  });
});
