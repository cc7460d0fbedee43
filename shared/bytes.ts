/**
 * Byte helpers shared by main and the renderer. Pure TypeScript: no Node APIs.
 */

const HEX = '0123456789abcdef';
/** Each byte's two hex digits as one little-endian 16-bit unit (first digit in the low byte). */
const HEX_PAIRS = Uint16Array.from({ length: 256 }, (_, b) => HEX.charCodeAt(b >> 4) | (HEX.charCodeAt(b & 15) << 8));
const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;
const ASCII = new TextDecoder();
/** Scratch for the digits of up to 64 bytes (two hashes), reused by every call. */
const DIGITS = new Uint16Array(64);

/**
 * Lowercase hex of `bytes`, as one flat string. Building it with `+=` made a tree of ~30 string
 * pieces per hash (and took 10 µs); hashes are kept by the thousand (store results, listings).
 */
export function toHex(bytes: Uint8Array): string {
  const n = bytes.length;
  const digits = n <= DIGITS.length ? DIGITS : new Uint16Array(n);
  if (LITTLE_ENDIAN) for (let i = 0; i < n; i++) digits[i] = HEX_PAIRS[bytes[i]!]!;
  else for (let i = 0; i < n; i++) digits[i] = ((HEX_PAIRS[bytes[i]!]! & 0xff) << 8) | (HEX_PAIRS[bytes[i]!]! >> 8);
  return ASCII.decode(new Uint8Array(digits.buffer, 0, 2 * n));
}

/** Parses lowercase hex; returns undefined for anything else (odd length, uppercase, non-hex). */
export function fromHex(hex: string): Uint8Array | undefined {
  if (hex.length % 2 !== 0 || !/^[0-9a-f]*$/.test(hex)) return undefined;
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** True when `s` is exactly 64 lowercase hex digits (a SHA-256 hash as Pakit prints it). */
export function isHash32Hex(s: unknown): s is string {
  return typeof s === 'string' && /^[0-9a-f]{64}$/.test(s);
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}

/**
 * Sorts a short array in place (insertion sort) and returns it. Array.prototype.sort allocates its
 * work state on every call, ~800 bytes even for three elements: sorting each block's parents and
 * metadata keys that way was 60 MB of the 900 MB the main thread allocated storing the bench corpus.
 */
export function sortSmall<T>(a: T[], compare: (x: T, y: T) => number): T[] {
  for (let i = 1; i < a.length; i++) {
    const v = a[i]!;
    let j = i - 1;
    for (; j >= 0 && compare(a[j]!, v) > 0; j--) a[j + 1] = a[j]!;
    a[j + 1] = v;
  }
  return a;
}

/** Lexicographic comparison, for canonical ordering of hash sets. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) return a[i]! - b[i]!;
  }
  return a.length - b.length;
}

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

export function utf8(s: string): Uint8Array {
  return utf8Encoder.encode(s);
}

export function fromUtf8(b: Uint8Array): string {
  return utf8Decoder.decode(b);
}

/**
 * Appends length-prefixed fields to one buffer. Every field is written as a 4-byte big-endian
 * length followed by its bytes, so no two different field sequences can produce the same bytes.
 * Writes go straight into one growing buffer: headers are encoded on the hot path of every block.
 */
const NO_BYTES = new Uint8Array(0);
const NO_VIEW = new DataView(NO_BYTES.buffer);

export class FieldWriter {
  /** One buffer lent to each writer in turn (finish() gives it back): no allocation per header. */
  static #spare: { buf: Uint8Array; view: DataView } | undefined;
  #buf: Uint8Array;
  #view: DataView;
  #pos = 0;

  constructor() {
    const lent = FieldWriter.#spare;
    FieldWriter.#spare = undefined;
    this.#buf = lent?.buf ?? new Uint8Array(512);
    this.#view = lent?.view ?? new DataView(this.#buf.buffer);
  }

  #ensure(extra: number): void {
    if (this.#pos + extra <= this.#buf.length) return;
    let n = Math.max(512, this.#buf.length * 2);
    while (n < this.#pos + extra) n *= 2;
    const next = new Uint8Array(n);
    next.set(this.#buf.subarray(0, this.#pos));
    this.#buf = next;
    this.#view = new DataView(next.buffer);
  }

  bytes(b: Uint8Array): this {
    this.#ensure(4 + b.length);
    this.#view.setUint32(this.#pos, b.length, false);
    this.#buf.set(b, this.#pos + 4);
    this.#pos += 4 + b.length;
    return this;
  }

  string(s: string): this {
    // UTF-8 is at most 3 bytes per UTF-16 code unit.
    this.#ensure(4 + s.length * 3);
    // ASCII, the usual case, is copied here: encodeInto needs a view of the buffer, an allocation
    // per string. The first code unit past ASCII (a lone or leading surrogate included) ends it.
    const buf = this.#buf;
    const at = this.#pos + 4;
    let written = 0;
    for (; written < s.length; written++) {
      const c = s.charCodeAt(written);
      if (c >= 0x80) break;
      buf[at + written] = c;
    }
    if (written < s.length) written += utf8Encoder.encodeInto(s.slice(written), buf.subarray(at + written)).written;
    this.#view.setUint32(this.#pos, written, false);
    this.#pos += 4 + written;
    return this;
  }

  /** An unsigned integer up to 2^53-1, as 8 bytes big-endian (length-prefixed like every field). */
  u64(n: number): this {
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`not an unsigned 53-bit integer: ${n}`);
    this.#ensure(12);
    this.#view.setUint32(this.#pos, 8, false);
    this.#view.setUint32(this.#pos + 4, Math.floor(n / 2 ** 32), false);
    this.#view.setUint32(this.#pos + 8, n >>> 0, false);
    this.#pos += 12;
    return this;
  }

  /** A count followed by each item as a field. */
  list(items: readonly Uint8Array[]): this {
    this.u64(items.length);
    for (const it of items) this.bytes(it);
    return this;
  }

  /** The bytes written, as a new array. The writer must not be used afterwards. */
  finish(): Uint8Array {
    return this.finishWith((written) => written.slice());
  }

  /**
   * Passes a view of the bytes written to `use` and returns its result, without copying them: for
   * a caller that only reads them (a hash over a block header: the copy was the largest part of
   * encoding one). The view is valid only during the call. The writer must not be used afterwards.
   */
  finishWith<T>(use: (written: Uint8Array) => T): T {
    const out = use(this.#buf.subarray(0, this.#pos));
    if (this.#buf.length <= 4096) FieldWriter.#spare = { buf: this.#buf, view: this.#view };
    // Should the writer be used again anyway, it starts over in a buffer of its own.
    this.#buf = NO_BYTES;
    this.#view = NO_VIEW;
    this.#pos = 0;
    return out;
  }
}

/** Reads what {@link FieldWriter} wrote; every read checks bounds and throws a RangeError naming the field. */
export class FieldReader {
  #buf: Uint8Array;
  #view: DataView;
  #pos = 0;

  constructor(buf: Uint8Array) {
    this.#buf = buf;
    this.#view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  bytes(what: string): Uint8Array {
    if (this.#pos + 4 > this.#buf.length) throw new RangeError(`truncated before ${what}`);
    const len = this.#view.getUint32(this.#pos, false);
    this.#pos += 4;
    if (this.#pos + len > this.#buf.length) throw new RangeError(`truncated inside ${what}`);
    const out = this.#buf.subarray(this.#pos, this.#pos + len);
    this.#pos += len;
    return out;
  }

  string(what: string): string {
    return fromUtf8(this.bytes(what));
  }

  u64(what: string): number {
    const b = this.bytes(what);
    if (b.length !== 8) throw new RangeError(`${what} is not an 8-byte integer`);
    const v = new DataView(b.buffer, b.byteOffset, 8);
    const hi = v.getUint32(0, false);
    if (hi >= 2 ** 21) throw new RangeError(`${what} exceeds 2^53`);
    const lo = v.getUint32(4, false);
    // Not hi * 2^32 + lo when hi is 0: that is a heap number even for 1, and objects holding it
    // (a decoded header's counts) got a hidden class apart from those holding small integers.
    return hi === 0 ? lo : hi * 2 ** 32 + lo;
  }

  list(what: string, max: number): Uint8Array[] {
    const n = this.u64(`${what} count`);
    if (n > max) throw new RangeError(`${what} has ${n} items, more than ${max}`);
    const out: Uint8Array[] = [];
    for (let i = 0; i < n; i++) out.push(this.bytes(`${what}[${i}]`));
    return out;
  }

  end(what: string): void {
    if (this.#pos !== this.#buf.length)
      throw new RangeError(`${this.#buf.length - this.#pos} trailing bytes after ${what}`);
  }
}
