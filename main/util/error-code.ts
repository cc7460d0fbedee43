/** A short code for an error, for reports: its errno code (`EACCES`), else its name. */
export const errCode = (e: unknown): string => (e as { code?: string })?.code ?? (e as Error)?.name ?? 'ERROR';
