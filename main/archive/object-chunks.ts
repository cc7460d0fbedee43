import { MerkleFrontier } from '../../shared/merkle.js';
import type { ChunkInfo, IngestedChunk } from '../store/types.js';
import { nodeSha256 } from '../util/sha256.js';
import type { ArchiveContext } from './context.js';

/** Chunk bookkeeping for one object: ids in order, stored size counting each distinct chunk once. */
export class ObjectChunks {
  readonly ids: Buffer[] = [];
  /** The content root, built as the ids come (see MerkleFrontier). */
  readonly #root = new MerkleFrontier(nodeSha256);
  /** Ids seen (latin1), made at the second chunk: most objects have one. */
  #seen: Set<string> | undefined;
  /** Chunks in groups not sealed yet when they came, and the groups' promises (made when needed). */
  #grouped: Buffer[] | undefined;
  #groups: Set<Promise<void>> | undefined;
  storedSize = 0;

  constructor(private readonly ctx: ArchiveContext) {}

  add(batch: readonly IngestedChunk[]): void {
    for (const c of batch) {
      this.ids.push(c.id);
      this.#root.push(c.id);
      if (!this.#isNew(c.id)) continue;
      if (c.grouped) {
        (this.#grouped ??= []).push(c.id);
        (this.#groups ??= new Set()).add(c.grouped);
        continue;
      }
      this.#count(
        c.encoded ? this.ctx.chunks.put(c as Parameters<typeof this.ctx.chunks.put>[0]) : this.ctx.chunks.lookup(c.id),
        c.id,
      );
    }
  }

  /** Whether `id`, just added, is the first of its kind in this object. */
  #isNew(id: Buffer): boolean {
    if (this.ids.length === 1) return true;
    const seen = (this.#seen ??= new Set([this.ids[0]!.toString('latin1')]));
    const k = id.toString('latin1');
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  }

  get contentRoot(): Uint8Array {
    return this.#root.root();
  }

  /**
   * Settles once every group holding one of the object's new chunks is stored (undefined: there
   * is nothing to wait for); then call {@link countGrouped}.
   */
  groupsStored(): Promise<unknown> | undefined {
    const groups = this.#groups;
    if (!groups) return undefined;
    const [first] = groups;
    return groups.size === 1 ? first! : Promise.all(groups);
  }

  /** Counts the chunks of the object's groups, once groupsStored() has settled. */
  countGrouped(): void {
    if (!this.#grouped) return;
    for (const id of this.#grouped) this.#count(this.ctx.chunks.lookup(id), id);
    this.#groups = undefined;
    this.#grouped = undefined;
  }

  #count(info: ChunkInfo | undefined, id: Buffer): void {
    if (!info) throw new Error(`chunk ${id.toString('hex')} reported as stored but not found`);
    this.storedSize += info.storedLength;
  }
}
