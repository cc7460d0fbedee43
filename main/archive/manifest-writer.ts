import { canonicalEntry, sortedByPath, type SnapshotEntry } from './snapshot.js';
import { nextTurn } from '../util/next-turn.js';

/** Characters JSON.stringify writes otherwise than as themselves (surrogates: when unpaired). */
const ESCAPED = /["\\\u0000-\u001f\ud800-\udfff]/;
const HEAD = '{"format":"pakit-snapshot","version":1,"entries":[';
/** Bytes per part parts() hands out, one per turn of the event loop. */
const PART_BYTES = 256 * 1024;
const COMMA = 0x2c;
const QUOTE = 0x22;

/** Where an entry's JSON is in the writer's buffer. */
interface Written {
  readonly path: string;
  readonly start: number;
  readonly end: number;
}

/**
 * A snapshot manifest — the bytes of encodeSnapshot — made as its entries come: each entry's JSON
 * goes into one buffer when it is added (during a store, as each file's result comes in), and
 * parts() only puts the entries in path order. Made at the end instead, by JSON.stringify of the
 * entries, the bench corpus's 7.6 MB manifest held the main thread 90–130 ms after its last file,
 * with the other core idle. The entry objects need not be kept either.
 */
export class ManifestWriter {
  #buf = Buffer.allocUnsafe(1 << 16);
  #at = 0;
  readonly #written: Written[] = [];

  /** Entries added (a path added twice counts twice; the manifest holds the last). */
  get count(): number {
    return this.#written.length;
  }

  add(e: SnapshotEntry): void {
    const start = this.#at;
    if (!plainEntry(e)) {
      // Never made by a walk: JSON.stringify itself writes it.
      this.#utf8(JSON.stringify(canonicalEntry(e)));
    } else {
      this.#ascii('{"path":');
      this.#string(e.path);
      switch (e.type) {
        case 'file':
          this.#ascii(`,"type":"file","mode":${e.mode},"mtime":${e.mtime},"size":${e.size},"hash":`);
          this.#string(e.hash);
          break;
        case 'symlink':
          this.#ascii(`,"type":"symlink","mtime":${e.mtime},"target":`);
          this.#string(e.target);
          this.#ascii(',"hash":');
          this.#string(e.hash);
          break;
        case 'dir':
          this.#ascii(`,"type":"dir","mode":${e.mode},"mtime":${e.mtime}`);
          break;
      }
      this.#ascii('}');
    }
    this.#written.push({ path: e.path, start, end: this.#at });
  }

  /**
   * The manifest in parts of about PART_BYTES, each made when asked for, one per turn of the event
   * loop (a store hands them to an ingest worker as they come). Entries in path order, one per path.
   */
  async *parts(): AsyncGenerator<Buffer> {
    const sorted = await sortedByPath(this.#written);
    yield Buffer.from(HEAD);
    for (let i = 0; i < sorted.length;) {
      if (i > 0) await nextTurn();
      let bytes = 0;
      let j = i;
      for (; j < sorted.length && (j === i || bytes < PART_BYTES); j++) bytes += sorted[j]!.end - sorted[j]!.start + 1;
      const part = Buffer.allocUnsafe(bytes);
      let at = 0;
      for (let k = i; k < j; k++) {
        // Every entry but the very first after a comma, the first of a part included.
        if (k > 0) part[at++] = COMMA;
        at += this.#buf.copy(part, at, sorted[k]!.start, sorted[k]!.end);
      }
      yield part.subarray(0, at);
      i = j;
    }
    yield Buffer.from(']}');
  }

  /** Room for `n` more bytes. */
  #room(n: number): void {
    if (this.#at + n <= this.#buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.#buf.length * 2, this.#at + n));
    this.#buf.copy(bigger, 0, 0, this.#at);
    this.#buf = bigger;
  }

  #ascii(text: string): void {
    this.#room(text.length);
    this.#at += this.#buf.write(text, this.#at, 'latin1');
  }

  #utf8(text: string): void {
    this.#room(3 * text.length);
    this.#at += this.#buf.write(text, this.#at, 'utf8');
  }

  /** A JSON string, as JSON.stringify writes it. */
  #string(text: string): void {
    if (ESCAPED.test(text)) {
      this.#utf8(JSON.stringify(text));
      return;
    }
    this.#room(3 * text.length + 2);
    this.#buf[this.#at++] = QUOTE;
    this.#at += this.#buf.write(text, this.#at, 'utf8');
    this.#buf[this.#at++] = QUOTE;
  }
}

/** The bytes of encodeSnapshot(entries) in parts, as {@link ManifestWriter.parts} makes them. */
export function snapshotParts(entries: readonly SnapshotEntry[]): AsyncGenerator<Buffer> {
  const w = new ManifestWriter();
  for (const e of entries) w.add(e);
  return w.parts();
}

const finite = (n: unknown): boolean => typeof n === 'number' && Number.isFinite(n);

/**
 * Whether `e`'s fields have the types its kind says, numbers finite: then a number's JSON is the
 * text a template literal gives, and ManifestWriter writes the entry itself.
 */
function plainEntry(e: SnapshotEntry): boolean {
  if (typeof e.path !== 'string' || !finite(e.mtime)) return false;
  switch (e.type) {
    case 'file':
      return finite(e.mode) && finite(e.size) && typeof e.hash === 'string';
    case 'symlink':
      return typeof e.target === 'string' && typeof e.hash === 'string';
    case 'dir':
      return finite(e.mode);
    default:
      return false;
  }
}
