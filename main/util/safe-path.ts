/**
 * Checks a relative path that came from an archive or a peer before it is joined to a local
 * folder. Returns why it is unsafe, or undefined when it is fine. Separators are `/` only.
 */
export function checkRelativePath(p: unknown): string | undefined {
  if (typeof p !== 'string') return 'not a string';
  if (p.length === 0) return 'empty';
  if (p.length > 4096) return 'longer than 4096 characters';
  if (p.includes('\0')) return 'contains a NUL byte';
  if (p.includes('\\')) return 'contains a backslash';
  if (p.startsWith('/')) return 'absolute';
  if (/^[A-Za-z]:/.test(p)) return 'has a drive letter';
  for (const part of p.split('/')) {
    if (part === '' || part === '.' || part === '..') return `has a "${part || '(empty)'}" component`;
  }
  return undefined;
}

/** A safe single file name (no separators at all). */
export function checkFileName(name: unknown): string | undefined {
  const why = checkRelativePath(name);
  if (why) return why;
  if ((name as string).includes('/')) return 'contains a separator';
  return undefined;
}
