/**
 * The seed's "balanced random" parent rule. For a new block:
 *  - always the newest block;
 *  - with probability `underReferencedProbability` (0.7), one under-referenced block (fewer than
 *    `underReferencedChildren` = 3 children) from the last `recentDepths` (1,000) depths;
 *  - 1–`maxHistorical` (3) random blocks from the last `historicalDepths` (10,000) depths;
 *  - no duplicates; never more than 5 parents.
 * It keeps the window of recent blocks in memory so choosing is O(1) amortised.
 */

export interface ParentRuleInit {
  readonly underReferencedProbability?: number;
  readonly underReferencedChildren?: number;
  readonly recentDepths?: number;
  readonly historicalDepths?: number;
  readonly minHistorical?: number;
  readonly maxHistorical?: number;
}

export const DEFAULT_PARENT_RULE: Required<ParentRuleInit> = {
  underReferencedProbability: 0.7,
  underReferencedChildren: 3,
  recentDepths: 1000,
  historicalDepths: 10_000,
  minHistorical: 1,
  maxHistorical: 3,
};

/** A block as the selector sees it. */
export interface WindowBlock {
  readonly seq: number;
  readonly hash: Buffer;
  readonly depth: number;
  children: number;
}

function has(chosen: readonly WindowBlock[], seq: number): boolean {
  for (const b of chosen) if (b.seq === seq) return true;
  return false;
}

export class ParentSelector {
  readonly #rule: Required<ParentRuleInit>;
  readonly #random: () => number;
  /**
   * Recent blocks in insertion order; entries before #start have left the window. Blocks are added
   * by consecutive seq (the writer's appends, or a reload's contiguous newest rows), so a block is
   * found by its offset from the first entry, with no map to keep (see #at).
   */
  #window: WindowBlock[] = [];
  #start = 0;
  /** Candidates that were under-referenced when last seen; checked lazily when drawn. */
  #under: WindowBlock[] = [];

  constructor(rule: ParentRuleInit = {}, random: () => number = Math.random) {
    this.#rule = { ...DEFAULT_PARENT_RULE, ...rule };
    if (
      this.#rule.minHistorical < 1 ||
      this.#rule.maxHistorical < this.#rule.minHistorical ||
      this.#rule.maxHistorical > 3
    )
      throw new RangeError('historical parents must be 1–3');
    this.#random = random;
  }

  get rule(): Readonly<Required<ParentRuleInit>> {
    return this.#rule;
  }

  /** The newest block, or undefined before genesis. */
  get newest(): WindowBlock | undefined {
    return this.#window.length > this.#start ? this.#window[this.#window.length - 1] : undefined;
  }

  /** Blocks in the window with no children (the DAG's tips, since older blocks always have one). */
  tips(): WindowBlock[] {
    const out: WindowBlock[] = [];
    for (let i = this.#start; i < this.#window.length; i++)
      if (this.#window[i]!.children === 0) out.push(this.#window[i]!);
    return out;
  }

  /** Records a block (in insertion order) with its current child count. */
  add(b: Omit<WindowBlock, 'children'> & { children?: number }): WindowBlock {
    const wb: WindowBlock = { seq: b.seq, hash: b.hash, depth: b.depth, children: b.children ?? 0 };
    this.#window.push(wb);
    if (wb.children < this.#rule.underReferencedChildren) this.#under.push(wb);
    this.#prune(wb.depth);
    return wb;
  }

  /** Notes that `seq` gained a child (if it is still in the window). */
  addChild(seq: number): void {
    const b = this.#at(seq);
    if (b) b.children++;
  }

  /** The window's block `seq`, if it is still in the window (and was added in seq order). */
  #at(seq: number): WindowBlock | undefined {
    const first = this.#window[this.#start];
    if (first === undefined || seq < first.seq) return undefined;
    const b = this.#window[this.#start + (seq - first.seq)];
    return b !== undefined && b.seq === seq ? b : undefined;
  }

  /** Chooses parents for the next block. Returns them in no particular order; never empty after genesis. */
  choose(): WindowBlock[] {
    const newest = this.newest;
    if (!newest) throw new Error('no blocks yet: the genesis block comes first');
    // At most 5 parents: an array and a linear search, not a Map per block appended.
    const chosen: WindowBlock[] = [newest];
    const maxDepth = newest.depth;

    if (this.#random() < this.#rule.underReferencedProbability) {
      const u = this.#drawUnderReferenced(maxDepth - this.#rule.recentDepths, chosen);
      if (u) chosen.push(u);
    }

    const span = this.#rule.maxHistorical - this.#rule.minHistorical + 1;
    const want = this.#rule.minHistorical + Math.floor(this.#random() * span);
    const available = this.#window.length - this.#start - chosen.length;
    for (let tries = 0, got = 0; got < want && got < available && tries < want * 8; tries++) {
      const i = this.#start + Math.floor(this.#random() * (this.#window.length - this.#start));
      const b = this.#window[i]!;
      if (has(chosen, b.seq)) continue;
      chosen.push(b);
      got++;
    }
    // With few blocks the random draws may all collide; fill deterministically so that a block has
    // 2 parents whenever 2 blocks exist.
    if (chosen.length < 2) {
      for (let i = this.#window.length - 1; i >= this.#start && chosen.length < 2; i--) {
        const b = this.#window[i]!;
        if (!has(chosen, b.seq)) chosen.push(b);
      }
    }
    return chosen;
  }

  #drawUnderReferenced(minDepthExclusive: number, chosen: readonly WindowBlock[]): WindowBlock | undefined {
    // Lazy deletion: a drawn entry that has since gained enough children, or aged out, is removed.
    while (this.#under.length > 0) {
      const i = Math.floor(this.#random() * this.#under.length);
      const b = this.#under[i]!;
      const stale = b.children >= this.#rule.underReferencedChildren || b.depth <= minDepthExclusive;
      if (stale || this.#at(b.seq) === undefined) {
        this.#under[i] = this.#under[this.#under.length - 1]!;
        this.#under.pop();
        continue;
      }
      if (has(chosen, b.seq)) {
        // The newest block is the only one already chosen; look for another a few times.
        if (this.#under.length === 1) return undefined;
        const j = (i + 1) % this.#under.length;
        const c = this.#under[j]!;
        return !has(chosen, c.seq) && c.children < this.#rule.underReferencedChildren && c.depth > minDepthExclusive
          ? c
          : undefined;
      }
      return b;
    }
    return undefined;
  }

  #prune(maxDepth: number): void {
    const minDepth = maxDepth - this.#rule.historicalDepths;
    while (this.#start < this.#window.length - 1 && this.#window[this.#start]!.depth <= minDepth) this.#start++;
    if (this.#start > 4096 && this.#start * 2 > this.#window.length) {
      this.#window = this.#window.slice(this.#start);
      this.#start = 0;
    }
  }
}
