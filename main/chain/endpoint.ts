/** Chain settings checked without loading @polkadot/api (it takes over a second to import). */

export class ChainConfigError extends Error {
  override readonly name = 'ChainConfigError';
  readonly code = 'ERR_CHAIN_CONFIG';
}

/** Only WebSocket endpoints: `ws://` or `wss://` with a host. */
export function checkEndpoint(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ChainConfigError(
      `chain endpoint ${JSON.stringify(url)} is not a URL (expected ws://HOST:PORT or wss://…)`,
    );
  }
  if (u.protocol !== 'ws:' && u.protocol !== 'wss:')
    throw new ChainConfigError(`chain endpoint ${JSON.stringify(url)} must start with ws:// or wss://`);
  if (!u.hostname) throw new ChainConfigError(`chain endpoint ${JSON.stringify(url)} has no host`);
  return url;
}
