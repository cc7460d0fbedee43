/**
 * Results of work started one after another, taken in that order as they settle: a store lists
 * files in the order they were walked or named, however their commits interleave.
 */
interface Pending<T> {
  done: boolean;
  value: T | undefined;
  settled: Promise<void>;
}

export class InOrder<T> {
  readonly #pending: Pending<T>[] = [];

  /** `take` receives each result in order; an undefined result (a problem, told elsewhere) is skipped. */
  constructor(private readonly take: (value: T) => void) {}

  /** How many results are not yet taken. */
  get size(): number {
    return this.#pending.length;
  }

  /** Adds work (which must not reject), then takes whatever has settled at the front. */
  add(work: Promise<T | undefined>): void {
    const item: Pending<T> = { done: false, value: undefined, settled: Promise.resolve() };
    item.settled = work.then((v) => {
      item.value = v;
      item.done = true;
    });
    this.#pending.push(item);
    while (this.#pending[0]?.done) this.#takeFirst();
  }

  /** Waits for, and takes, results in order until at most `limit` remain. */
  async drain(limit: number): Promise<void> {
    while (this.#pending.length > limit) {
      await this.#pending[0]!.settled;
      this.#takeFirst();
    }
  }

  #takeFirst(): void {
    const { value } = this.#pending.shift()!;
    if (value !== undefined) this.take(value);
  }
}
