/**
 * Results of work started one after another, taken in that order as they come: a store lists
 * files in the order they were walked or named, however their commits interleave. An entry is any
 * object with `done` and `value` (a store's file is its own entry: no promise or wrapper per file).
 */
export interface Ordered<T> {
  done: boolean;
  value: T | undefined;
}

export class InOrder<T> {
  /** Entries not yet taken start at #head (the slots before it are emptied, and trimmed now and then). */
  #items: (Ordered<T> | undefined)[] = [];
  #head = 0;
  #taking = false;
  /** What a taker threw: entries are no longer taken, and add() and drain() throw it. */
  #failed: { readonly error: unknown } | undefined;
  /** A drain() waiting until at most `limit` entries remain. */
  #waiter: { readonly limit: number; readonly resolve: () => void; readonly reject: (e: unknown) => void } | undefined;

  /** `take` receives each result in order; an undefined result (a problem, told elsewhere) is skipped. */
  constructor(private readonly take: (value: T) => void) {}

  /** How many results are not yet taken. */
  get size(): number {
    return this.#items.length - this.#head;
  }

  /** Adds an entry; it is taken in its turn once {@link settle}d (at once, if it is already done). */
  add(item: Ordered<T>): void {
    if (this.#failed) throw this.#failed.error;
    this.#items.push(item);
    if (item.done) this.#takeFront();
  }

  /** Adds work (which must not reject), taken in its turn once it settles. */
  addPromise(work: Promise<T | undefined>): void {
    const item: Ordered<T> = { done: false, value: undefined };
    this.add(item);
    void work.then((v) => this.settle(item, v));
  }

  /** Gives an entry its result (undefined: none to take) and takes whatever is now done at the front. */
  settle(item: Ordered<T>, value: T | undefined): void {
    item.value = value;
    item.done = true;
    if (this.#items[this.#head] === item) this.#takeFront();
  }

  /** Stops taking results: add() throws `error` from now on, and drain() rejects with it. */
  fail(error: unknown): void {
    if (this.#failed) return;
    this.#failed = { error };
    this.#waiter?.reject(error);
    this.#waiter = undefined;
  }

  /** Calls `f` on every entry added and not yet done. */
  forEachPending(f: (item: Ordered<T>) => void): void {
    for (let i = this.#head; i < this.#items.length; i++) {
      const item = this.#items[i]!;
      if (!item.done) f(item);
    }
  }

  /**
   * Resolves once at most `limit` results remain not taken; rejects with what a taker threw, if one
   * did (settle() itself never throws: it is called from whatever finished the work).
   */
  drain(limit: number): Promise<void> {
    if (this.#failed) return Promise.reject(this.#failed.error);
    if (this.size <= limit) return Promise.resolve();
    if (this.#waiter) return Promise.reject(new Error('InOrder.drain: one caller at a time'));
    return new Promise((resolve, reject) => (this.#waiter = { limit, resolve, reject }));
  }

  #takeFront(): void {
    // A result's taker may settle another entry: the loop already under way takes it.
    if (this.#taking || this.#failed) return;
    this.#taking = true;
    const items = this.#items;
    try {
      while (this.#head < items.length && items[this.#head]!.done) {
        const { value } = items[this.#head]!;
        items[this.#head++] = undefined;
        if (value !== undefined) this.take(value);
      }
    } catch (error) {
      this.fail(error);
    } finally {
      this.#taking = false;
      if (this.#head === items.length) {
        items.length = 0;
        this.#head = 0;
      } else if (this.#head >= 1024 && this.#head * 2 >= items.length) {
        items.splice(0, this.#head);
        this.#head = 0;
      }
      const w = this.#waiter;
      if (w && this.size <= w.limit) {
        this.#waiter = undefined;
        w.resolve();
      }
    }
  }
}
