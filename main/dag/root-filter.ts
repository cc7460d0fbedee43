/**
 * A Bloom filter of content-root prefixes: the first 8 bytes of a block's content root, which begin
 * its identity key (identity-file.ts). It answers "no block's root starts with these bytes" for
 * sure, and "maybe" otherwise (then the identity index is asked). A new object almost always has a
 * root no block has.
 * The index probe was 12 % of a metadata block's append at 500,000 blocks (CPU profile), the filter
 * is ~1 %; a million appends ran 2.6 and 8.5 % faster in two pairs (docs/BENCHMARKS.md, run AM),
 * less than the probe's share, since the index insert that follows now reads the page the probe
 * used to bring in.
 *
 * Roots are SHA-256 outputs (or Merkle roots over them), so their bytes are already uniformly
 * spread: the bit positions come from the prefix's two 32-bit halves by double hashing, with no
 * hash function of our own. A root crafted to land on set bits only costs an index probe.
 */

/** Bits per entry of capacity; with {@link PROBES} probes a full layer is wrong ~0.8 % of the time. */
const BITS_PER_ENTRY = 10;
const PROBES = 7;

/**
 * Grows without reading anything again: when its newest layer is full it adds one of twice the
 * capacity, and a prefix is "maybe" if any layer says so. With n full layers it is wrong at most
 * ~n × 0.8 % of the time (a layer half full: ~0.02 %).
 */
export class RootFilter {
  readonly #layers: Layer[];

  constructor(capacity: number) {
    this.#layers = [new Layer(capacity)];
  }

  /** Prefixes added (a prefix added twice counts twice). */
  get count(): number {
    let n = 0;
    for (const l of this.#layers) n += l.count;
    return n;
  }

  get layers(): number {
    return this.#layers.length;
  }

  /** Adds a root's (or an 8-byte prefix's) first 8 bytes. */
  add(root: Uint8Array): void {
    let top = this.#layers[this.#layers.length - 1]!;
    if (top.full) this.#layers.push((top = new Layer(top.capacity * 2)));
    top.add(root);
  }

  /** False only if no root added starts with the same 8 bytes. */
  mayHave(root: Uint8Array): boolean {
    for (const l of this.#layers) if (l.mayHave(root)) return true;
    return false;
  }
}

class Layer {
  /** How many prefixes it holds before its false-positive rate passes ~0.8 %. */
  readonly capacity: number;
  readonly #words: Uint32Array;
  readonly #bits: number;
  #count = 0;

  constructor(capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError(`filter capacity ${capacity}`);
    this.capacity = capacity;
    this.#words = new Uint32Array(Math.ceil((capacity * BITS_PER_ENTRY) / 32));
    this.#bits = this.#words.length * 32;
  }

  get count(): number {
    return this.#count;
  }

  get full(): boolean {
    return this.#count >= this.capacity;
  }

  add(root: Uint8Array): void {
    let h = word(root, 0);
    const step = word(root, 4) | 1;
    for (let i = 0; i < PROBES; i++) {
      const bit = h % this.#bits;
      this.#words[bit >>> 5]! |= 1 << (bit & 31);
      h = (h + step) >>> 0;
    }
    this.#count++;
  }

  mayHave(root: Uint8Array): boolean {
    let h = word(root, 0);
    const step = word(root, 4) | 1;
    for (let i = 0; i < PROBES; i++) {
      const bit = h % this.#bits;
      if ((this.#words[bit >>> 5]! & (1 << (bit & 31))) === 0) return false;
      h = (h + step) >>> 0;
    }
    return true;
  }
}

function word(b: Uint8Array, at: number): number {
  if (b.length < 8) throw new RangeError(`a content root prefix needs 8 bytes, got ${b.length}`);
  return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
}
