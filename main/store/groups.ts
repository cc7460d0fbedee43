import type { GroupMember, SealedGroup } from './types.js';

/** What the chunk store does with groups of small chunks (see SealedGroup in types.ts). */

/**
 * The members of a group to index: not `known` already, and the first of two with one id (a worker
 * dedups its own group, so that never comes from one). Throws, before anything is kept, on a member
 * that lies outside the group's bytes.
 */
export function newMembers(group: SealedGroup, known: (id: Buffer) => boolean): GroupMember[] {
  const members: GroupMember[] = [];
  const seen = new Set<string>();
  group.members.forEach((m, i) => {
    if (m.at < 0 || m.at + m.rawLength > group.rawLength)
      throw new RangeError(
        `group member ${i} (${m.at}+${m.rawLength}) lies outside the group's ${group.rawLength} bytes`,
      );
    const k = m.id.toString('latin1');
    if (seen.has(k) || known(m.id)) return;
    seen.add(k);
    members.push(m);
  });
  return members;
}

/**
 * Each member's stored length: its share of the frame's `frameLength` bytes, by raw length. The last
 * takes what rounding left, so the shares add up to the frame's length exactly.
 */
export function frameShares(frameLength: number, rawLengths: readonly number[]): number[] {
  const raw = rawLengths.reduce((n, r) => n + r, 0);
  let left = frameLength;
  return rawLengths.map((r, i) => {
    const share = i === rawLengths.length - 1 ? left : Math.floor((frameLength * r) / Math.max(raw, 1));
    left -= share;
    return share;
  });
}

/**
 * Decompressed group frames kept for the next reads, least recently used dropped first. Restoring
 * a folder reads its small files in about the order they were stored, so consecutive reads mostly
 * hit the same group (or the other worker's); `check` reads by row id, which is the same order.
 */
export class FrameCache {
  readonly #frames = new Map<string, Buffer>();

  constructor(readonly capacity = 16) {}

  /** The frame at (pack, offset), or `load()`'s result, kept for next time. */
  get(pack: number | null, offset: number | null, load: () => Buffer | undefined): Buffer | undefined {
    const key = `${pack}:${offset}`;
    const hit = this.#frames.get(key);
    if (hit) {
      this.#frames.delete(key);
      this.#frames.set(key, hit);
      return hit;
    }
    const frame = load();
    if (!frame) return undefined;
    this.#frames.set(key, frame);
    if (this.#frames.size > this.capacity) this.#frames.delete(this.#frames.keys().next().value!);
    return frame;
  }

  clear(): void {
    this.#frames.clear();
  }
}
