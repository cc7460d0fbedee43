import {
  FieldReader,
  FieldWriter,
  compareBytes,
  equalBytes,
  fromHex,
  fromUtf8,
  isHash32Hex,
  sortSmall,
  toHex,
  utf8,
} from './bytes.js';
import { sha256 as defaultSha256, type Sha256 } from './hash.js';

/** Domain tag that starts every encoded block header (see docs/FORMATS.md). */
export const BLOCK_DOMAIN = 'pakit/block/v1';
export const BLOCK_VERSION = 1;
export const MIN_PARENTS = 2;
export const MAX_PARENTS = 5;
const MAX_META = 64;
/**
 * Assigning this key to a plain object sets its prototype instead of adding an entry, so a header
 * carrying it would silently lose the entry on parsing and still hash as if it were absent. Refused.
 */
const RESERVED_META_KEY = '__proto__';

export type BlockKind = 'genesis' | 'file' | 'symlink' | 'snapshot';
export const BLOCK_KINDS: readonly BlockKind[] = ['genesis', 'file', 'symlink', 'snapshot'];

/**
 * A block header: everything a block's hash covers. Hashes are raw 32-byte arrays here; the JSON
 * form ({@link BlockHeaderJson}) uses lowercase hex.
 */
export interface BlockHeader {
  readonly version: number;
  readonly kind: BlockKind;
  /**
   * Parent block hashes, in ascending byte order, no duplicates: none for genesis, 2–5 for every
   * other block except the first after genesis, whose only possible parent is genesis.
   */
  readonly parents: readonly Uint8Array[];
  /** 0 for genesis, else 1 + the greatest parent depth. */
  readonly depth: number;
  /** Milliseconds since the Unix epoch when the block was made. */
  readonly timestamp: number;
  /** RFC 9162 Merkle root over the object's chunk ids (SHA-256 of the empty string for no chunks). */
  readonly contentRoot: Uint8Array;
  /** Original (uncompressed) byte length of the object. */
  readonly size: number;
  /** Bytes its chunks occupy in the store, each counted once for this object. */
  readonly storedSize: number;
  readonly chunkCount: number;
  /** How chunks were encoded, e.g. `zstd-3` (chunks that do not compress are stored raw). */
  readonly codec: string;
  /** Object metadata (file name, mode, mtime…), as sorted, unique key/value strings. */
  readonly meta: Readonly<Record<string, string>>;
}

export interface BlockHeaderJson {
  version: number;
  kind: BlockKind;
  parents: string[];
  depth: number;
  timestamp: number;
  contentRoot: string;
  size: number;
  storedSize: number;
  chunkCount: number;
  codec: string;
  meta: Record<string, string>;
}

export class HeaderFormatError extends Error {
  override readonly name = 'HeaderFormatError';
  readonly code = 'ERR_HEADER_FORMAT';
}

/** Metadata keys in canonical order: by their UTF-8 bytes. */
export function sortedMetaKeys(meta: Readonly<Record<string, string>>): string[] {
  // Sort by UTF-8 bytes so every implementation agrees on the order. For ASCII keys (the usual
  // case) UTF-16 order is the same and needs no encoding.
  const keys = Object.keys(meta);
  if (keys.length < 2) return keys;
  if (keys.every((k) => /^[\x00-\x7f]*$/.test(k))) return sortSmall(keys, (a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return sortSmall(keys, (a, b) => compareBytes(utf8(a), utf8(b)));
}

/** Checks the structural rules a header must obey; throws HeaderFormatError naming the broken rule. */
export function validateHeader(h: BlockHeader): void {
  const fail = (msg: string): never => {
    throw new HeaderFormatError(msg);
  };
  if (h.version !== BLOCK_VERSION) fail(`unsupported block version ${h.version}`);
  if (!BLOCK_KINDS.includes(h.kind)) fail(`unknown block kind ${JSON.stringify(h.kind)}`);
  // One call per field, not a loop over a table: this runs for every block appended.
  const count = (name: string, v: number): void => {
    if (!Number.isSafeInteger(v) || v < 0) fail(`${name} must be a non-negative integer`);
  };
  count('depth', h.depth);
  count('timestamp', h.timestamp);
  count('size', h.size);
  count('storedSize', h.storedSize);
  count('chunkCount', h.chunkCount);
  if (h.contentRoot.length !== 32) fail('contentRoot must be 32 bytes');
  if (h.kind === 'genesis') {
    if (h.parents.length !== 0) fail('genesis has no parents');
    if (h.depth !== 0) fail('genesis has depth 0');
  } else {
    if (h.parents.length < 1 || h.parents.length > MAX_PARENTS)
      fail(`a block has ${MIN_PARENTS}–${MAX_PARENTS} parents, not ${h.parents.length}`);
    // Only the first block after genesis can have a single parent: nothing else exists yet.
    if (h.parents.length < MIN_PARENTS && h.depth !== 1)
      fail(`a block at depth ${h.depth} needs at least ${MIN_PARENTS} parents`);
    if (h.depth < 1) fail('a non-genesis block has depth ≥ 1');
  }
  for (let i = 0; i < h.parents.length; i++) {
    if (h.parents[i]!.length !== 32) fail(`parent ${i} is not 32 bytes`);
    if (i > 0 && compareBytes(h.parents[i - 1]!, h.parents[i]!) >= 0) fail('parents must be sorted and unique');
  }
  const keys = Object.keys(h.meta);
  if (keys.length > MAX_META) fail(`more than ${MAX_META} metadata entries`);
  for (const k of keys) {
    if (k.length === 0) fail('empty metadata key');
    if (k === RESERVED_META_KEY) fail(`metadata key ${RESERVED_META_KEY} is not allowed`);
    if (typeof h.meta[k] !== 'string') fail(`metadata ${k} is not a string`);
  }
  if (typeof h.codec !== 'string' || h.codec.length === 0 || h.codec.length > 64) fail('codec must be 1–64 characters');
}

/**
 * The canonical encoding a block hash covers: a domain tag, then every field length-prefixed in a
 * fixed order. Two different headers never share an encoding.
 */
export function encodeHeader(h: BlockHeader): Uint8Array {
  return headerFields(h).finish();
}

/** A writer holding {@link encodeHeader}'s bytes (validated first). */
function headerFields(h: BlockHeader): FieldWriter {
  validateHeader(h);
  const w = new FieldWriter()
    .string(BLOCK_DOMAIN)
    .u64(h.version)
    .string(h.kind)
    .list(h.parents)
    .u64(h.depth)
    .u64(h.timestamp)
    .bytes(h.contentRoot)
    .u64(h.size)
    .u64(h.storedSize)
    .u64(h.chunkCount)
    .string(h.codec);
  return writeMetaFields(w, h.meta);
}

/** The metadata as the canonical encoding ends: its count, then each key and value, keys sorted. */
export function writeMetaFields(w: FieldWriter, meta: Readonly<Record<string, string>>): FieldWriter {
  const keys = sortedMetaKeys(meta);
  w.u64(keys.length);
  for (const k of keys) w.string(k).string(meta[k]!);
  return w;
}

/** Decodes {@link encodeHeader}'s output; rejects anything that would not re-encode identically. */
export function decodeHeader(buf: Uint8Array): BlockHeader {
  try {
    const r = new FieldReader(buf);
    if (r.string('domain') !== BLOCK_DOMAIN) throw new HeaderFormatError('not a pakit block header');
    const version = r.u64('version');
    const kind = r.string('kind') as BlockKind;
    const parents = r.list('parents', MAX_PARENTS);
    const depth = r.u64('depth');
    const timestamp = r.u64('timestamp');
    const contentRoot = r.bytes('contentRoot');
    const size = r.u64('size');
    const storedSize = r.u64('storedSize');
    const chunkCount = r.u64('chunkCount');
    const codec = r.string('codec');
    const n = r.u64('meta count');
    if (n > MAX_META) throw new HeaderFormatError(`more than ${MAX_META} metadata entries`);
    const meta: Record<string, string> = {};
    let prev: Uint8Array | undefined;
    for (let i = 0; i < n; i++) {
      const kb = r.bytes(`meta key ${i}`);
      if (prev && compareBytes(prev, kb) >= 0) throw new HeaderFormatError('metadata keys not sorted and unique');
      prev = kb;
      const k = fromUtf8(kb);
      if (k === RESERVED_META_KEY) throw new HeaderFormatError(`metadata key ${RESERVED_META_KEY} is not allowed`);
      meta[k] = r.string(`meta value ${k}`);
    }
    r.end('header');
    const h: BlockHeader = {
      version,
      kind,
      parents,
      depth,
      timestamp,
      contentRoot,
      size,
      storedSize,
      chunkCount,
      codec,
      meta,
    };
    validateHeader(h);
    return h;
  } catch (e) {
    if (e instanceof HeaderFormatError) throw e;
    throw new HeaderFormatError(e instanceof Error ? e.message : String(e));
  }
}

/** The block hash: `hash` over the canonical encoding, read where it was written (no copy). */
export function hashHeader(h: BlockHeader, hash: Sha256 = defaultSha256): Uint8Array {
  return headerFields(h).finishWith(hash);
}

export function headerToJson(h: BlockHeader): BlockHeaderJson {
  const meta: Record<string, string> = {};
  for (const k of sortedMetaKeys(h.meta)) meta[k] = h.meta[k]!;
  return {
    version: h.version,
    kind: h.kind,
    parents: h.parents.map(toHex),
    depth: h.depth,
    timestamp: h.timestamp,
    contentRoot: toHex(h.contentRoot),
    size: h.size,
    storedSize: h.storedSize,
    chunkCount: h.chunkCount,
    codec: h.codec,
    meta,
  };
}

const HEADER_JSON_KEYS = [
  'version',
  'kind',
  'parents',
  'depth',
  'timestamp',
  'contentRoot',
  'size',
  'storedSize',
  'chunkCount',
  'codec',
  'meta',
] as const;

/** Parses the JSON form strictly: unknown or missing keys, wrong types and non-canonical hex are errors. */
export function headerFromJson(j: unknown, where = 'header'): BlockHeader {
  const fail = (msg: string): never => {
    throw new HeaderFormatError(`${where}: ${msg}`);
  };
  if (typeof j !== 'object' || j === null || Array.isArray(j)) fail('not an object');
  const o = j as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!(HEADER_JSON_KEYS as readonly string[]).includes(k)) fail(`unknown field ${k}`);
  for (const k of HEADER_JSON_KEYS) if (!(k in o)) fail(`missing field ${k}`);
  const num = (k: string): number => {
    const v = o[k];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) fail(`${k} must be a non-negative integer`);
    return v as number;
  };
  const hash = (v: unknown, name: string): Uint8Array => {
    if (!isHash32Hex(v)) fail(`${name} must be 64 lowercase hex digits`);
    return fromHex(v as string)!;
  };
  if (!Array.isArray(o.parents)) fail('parents must be an array');
  if (typeof o.kind !== 'string') fail('kind must be a string');
  if (typeof o.codec !== 'string') fail('codec must be a string');
  const m = o.meta;
  if (typeof m !== 'object' || m === null || Array.isArray(m)) fail('meta must be an object');
  const meta: Record<string, string> = {};
  for (const [k, v] of Object.entries(m as Record<string, unknown>)) {
    if (typeof v !== 'string') fail(`meta.${k} must be a string`);
    if (k === RESERVED_META_KEY) fail(`metadata key ${RESERVED_META_KEY} is not allowed`);
    meta[k] = v as string;
  }
  const h: BlockHeader = {
    version: num('version'),
    kind: o.kind as BlockKind,
    parents: (o.parents as unknown[]).map((p, i) => hash(p, `parents[${i}]`)),
    depth: num('depth'),
    timestamp: num('timestamp'),
    contentRoot: hash(o.contentRoot, 'contentRoot'),
    size: num('size'),
    storedSize: num('storedSize'),
    chunkCount: num('chunkCount'),
    codec: o.codec as string,
    meta,
  };
  try {
    validateHeader(h);
  } catch (e) {
    fail((e as Error).message);
  }
  return h;
}

export function sameHeader(a: BlockHeader, b: BlockHeader): boolean {
  return equalBytes(encodeHeader(a), encodeHeader(b));
}
