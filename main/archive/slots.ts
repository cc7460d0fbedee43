/**
 * How many files are read and chunked at once. A file holds a slot while the ingest workers have
 * it and gives it back once its chunks are stored: from then on it only waits for its group
 * commit, and any number may wait, so the commit delay never throttles a walk.
 */
export class IngestSlots {
  #free: number;
  readonly #waiting: (() => void)[] = [];

  constructor(size: number) {
    this.#free = size;
  }

  /** Takes a slot if one is free now; give it back with {@link give}. */
  takeNow(): boolean {
    if (this.#free <= 0) return false;
    this.#free--;
    return true;
  }

  /** Waits for a free slot and takes it; give it back with {@link give}. */
  async takeWhenFree(): Promise<void> {
    while (!this.takeNow()) await new Promise<void>((r) => this.#waiting.push(r));
  }

  /** Gives back one slot taken with takeNow or takeWhenFree. */
  give(): void {
    this.#free++;
    this.#waiting.shift()?.();
  }

  /** Waits for a free slot; resolves with its release, which gives it back the first time it is called. */
  async take(): Promise<() => void> {
    await this.takeWhenFree();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.give();
    };
  }
}
