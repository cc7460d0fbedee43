/** A promise with its settle functions, for a result that arrives by another path (a message). */
export interface Deferred {
  readonly promise: Promise<void>;
  readonly resolve: () => void;
  readonly reject: (e: unknown) => void;
}

/**
 * A new Deferred. Its promise never counts as an unhandled rejection: it may be rejected before
 * anyone waits on it, or when no one ever will; whoever awaits it still sees the rejection.
 */
export function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => {});
  return { promise, resolve, reject };
}
