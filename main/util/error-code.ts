/**
 * A short code for an error, for reports: its errno code (`EACCES`), else its name (`AbortError`:
 * a DOMException's `code` is a number, not a name).
 */
export function errCode(e: unknown): string {
  const code = (e as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string') return code;
  const name = (e as { name?: unknown } | undefined)?.name;
  return typeof name === 'string' ? name : 'ERROR';
}
