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

  /** Waits for a free slot; resolves with its release, which gives it back the first time it is called. */
  async take(): Promise<() => void> {
    while (this.#free <= 0) await new Promise<void>((r) => this.#waiting.push(r));
    this.#free--;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#free++;
      this.#waiting.shift()?.();
    };
  }
}
