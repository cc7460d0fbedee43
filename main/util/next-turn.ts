/** Resolves on a later turn of the event loop (after I/O callbacks): for long work done in slices. */
export const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
