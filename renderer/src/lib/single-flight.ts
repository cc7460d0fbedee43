/**
 * Shares work in flight by key: while `start`'s promise for a key is pending, a second caller gets
 * that same promise instead of starting the work again (or of returning empty-handed, which let a
 * keyboard selection during a scroll select nothing). Once it settles, the key may start afresh.
 */
export function singleFlight<T>(): (key: string, start: () => Promise<T>) => Promise<T> {
  const pending = new Map<string, Promise<T>>();
  return (key, start) => {
    let p = pending.get(key);
    if (!p) {
      p = start().finally(() => pending.delete(key));
      pending.set(key, p);
    }
    return p;
  };
}
