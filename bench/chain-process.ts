/**
 * Runs a local chain (see local-chain.ts) in its own process: prints one JSON line
 * `{"endpoint": "ws://127.0.0.1:PORT", "port": PORT}` when it is up, and stops on SIGTERM or SIGINT.
 * Usage: node dist/bench/chain-process.js [PORT]
 */
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';

process.env.LOG_LEVEL ??= 'error'; // chopsticks logs every block at info

const port = Number(process.argv[2] ?? 0);
const fund = (process.argv[3] ?? '//Alice,//Bob').split(',');
const [{ setupWithServer }, { chainSpec }] = await Promise.all([
  import('@acala-network/chopsticks'),
  import('@substrate/connect-known-chains/rococo_v2_2_asset_hub'),
]);
await cryptoWaitReady();
const keyring = new Keyring({ type: 'sr25519' });
const ctx = await setupWithServer({
  genesis: JSON.parse(chainSpec) as never,
  port,
  host: '127.0.0.1',
  'build-block-mode': 'Instant' as never,
  // The genesis has no dev accounts: fund the ones asked for.
  'import-storage': {
    System: {
      Account: fund.map((uri) => [[keyring.addFromUri(uri).address], { providers: 1, data: { free: 10n ** 18n } }]),
    },
  },
} as never);
const actual = Number(String(ctx.addr).split(':').pop());
process.stdout.write(`${JSON.stringify({ endpoint: `ws://127.0.0.1:${actual}`, port: actual })}\n`);
const stop = (): void => {
  void ctx.close().finally(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
