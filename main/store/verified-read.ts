import { sha256Digest } from '../util/sha256.js';
import { decodeChunk, decodeFrame } from './compression.js';
import type { FrameCache } from './groups.js';
import { ChunkCorruptError, ChunkMissingError, Codec, type ChunkInfo } from './types.js';

/** Where a grouped chunk's bytes are: in the frame at (pack, offset), `at` bytes into its raw bytes. */
export interface FramePlace {
  /** The frame's stored length, and its length once decompressed. */
  readonly len: number;
  readonly raw: number;
  readonly at: number;
}

/**
 * A chunk's row in `chunks`: its info and, for pack stores, where its bytes are (for a grouped
 * chunk: where its group's frame is).
 */
export interface StoredChunk extends ChunkInfo {
  readonly pack: number | null;
  readonly offset: number | null;
  readonly frame: FramePlace | null;
}

/**
 * A StoredChunk, its fields always in this order. Built by spreading (`{ ...where, frame }`), each
 * object got a hidden class of its own in V8 (Node 20): 16,825 of them 3.6 s into a store of the
 * bench corpus, and every read of a chunk's fields went through the slow, megamorphic path.
 */
export function storedChunk(
  rid: number,
  id: Buffer,
  rawLength: number,
  storedLength: number,
  codec: Codec,
  pack: number | null,
  offset: number | null,
  frame: FramePlace | null,
): StoredChunk {
  return { rid, id, rawLength, storedLength, codec, pack, offset, frame };
}

/** A grouped chunk's FramePlace (see storedChunk for why not by spreading). */
export function framePlace(len: number, raw: number, at: number): FramePlace {
  return { len, raw, at };
}

/** A chunk's stored bytes (or a group's frame, for a row whose storedLength is the frame's), or undefined when gone. */
export type ReadBytes = (chunk: StoredChunk) => Buffer | undefined;

/** The decompressed frame of a grouped chunk (cached); undefined when its bytes are gone. */
function frameOf(c: StoredChunk, f: FramePlace, readBytes: ReadBytes, frames: FrameCache): Buffer | undefined {
  return frames.get(c.pack, c.offset, () => {
    const stored = readBytes(storedChunk(c.rid, c.id, c.rawLength, f.len, c.codec, c.pack, c.offset, c.frame));
    if (!stored) return undefined;
    try {
      return decodeFrame(stored, f.raw);
    } catch (e) {
      const hex = c.id.toString('hex');
      throw new ChunkCorruptError(`chunk ${hex}: its group does not decode: ${(e as Error).message}`, {
        chunkId: hex,
        cause: e,
      });
    }
  });
}

/**
 * Reads, decodes and re-hashes one chunk: its raw bytes, or ChunkMissingError / ChunkCorruptError
 * naming it — never bytes that do not hash to its id.
 */
export function loadVerified(c: StoredChunk, readBytes: ReadBytes, frames: FrameCache): Buffer {
  const hex = c.id.toString('hex');
  let raw: Buffer;
  if (c.codec === Codec.Grouped) {
    const f = c.frame;
    const frame = f && frameOf(c, f, readBytes, frames);
    if (!f || !frame) throw new ChunkMissingError(`chunk ${hex}: its group's bytes are missing`, { chunkId: hex });
    if (f.at + c.rawLength > frame.length)
      throw new ChunkCorruptError(`chunk ${hex} lies past the end of its group`, { chunkId: hex });
    // A copy: the caller must not keep the whole group alive, nor be able to change the cached one.
    raw = Buffer.from(frame.subarray(f.at, f.at + c.rawLength));
  } else {
    const stored = readBytes(c);
    if (!stored) throw new ChunkMissingError(`chunk ${hex}: its stored bytes are missing`, { chunkId: hex });
    try {
      raw = decodeChunk(c.codec, stored, c.rawLength);
    } catch (e) {
      throw new ChunkCorruptError(`chunk ${hex} does not decode: ${(e as Error).message}`, {
        chunkId: hex,
        cause: e,
      });
    }
  }
  if (!sha256Digest(raw).equals(c.id))
    throw new ChunkCorruptError(`chunk ${hex}: its bytes do not hash to its id`, { chunkId: hex });
  return raw;
}
