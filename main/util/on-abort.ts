/**
 * Calls `f` once if `signal` aborts; returns what removes the listener (call it when the work ends,
 * whether or not it was aborted). No signal: nothing to listen to.
 */
export function onAbort(signal: AbortSignal | undefined, f: (reason: unknown) => void): () => void {
  if (!signal) return () => {};
  const listener = (): void => f(signal.reason);
  signal.addEventListener('abort', listener, { once: true });
  return () => signal.removeEventListener('abort', listener);
}
