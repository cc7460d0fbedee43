/** Deletions recorded within this window count together. */
const WINDOW_MS = 120_000;

/**
 * Asks before a sync records the deletion of more than half of a folder (an unmounted drive, a
 * wrong `rm -r`), as Syncthing does. Deletions recorded in the last two minutes count with the new
 * ones, so a mass deletion seen in several watch batches still counts as one. Folders with fewer
 * than `minFiles` files are never asked about.
 */
export class MassDeleteGuard {
  #confirmed = false;
  #recent: { at: number; count: number }[] = [];

  constructor(
    private readonly minFiles: number,
    private readonly now: () => number,
  ) {}

  /** The next sync may record deletions even if they are more than half of the folder. */
  confirm(): void {
    this.#confirmed = true;
  }

  /**
   * Whether deleting `deletes` of `tracked` files needs the user's confirmation first: the count and
   * the total to ask about, or undefined when the sync may go on.
   */
  check(tracked: number, deletes: number): { count: number; of: number } | undefined {
    const since = this.now() - WINDOW_MS;
    this.#recent = this.#recent.filter((d) => d.at >= since);
    const lately = this.#recent.reduce((n, d) => n + d.count, 0);
    const of = tracked + lately;
    const count = deletes + lately;
    if (deletes > 0 && !this.#confirmed && of >= this.minFiles && count > of / 2) return { count, of };
    return undefined;
  }

  /** A sync recorded `deleted` deletions; a confirmation is used up by them. */
  recorded(deleted: number): void {
    if (deleted === 0) return;
    if (this.#confirmed) {
      this.#confirmed = false;
      this.#recent = [];
    } else this.#recent.push({ at: this.now(), count: deleted });
  }
}
