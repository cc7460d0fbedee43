/**
 * The node's chain anchoring: the settings (endpoint, call, policy — saved in settings.json), the
 * signer (a secret URI or keystore given at start, or entered in Settings; held in memory only),
 * the Anchorer that runs the policy, and a reader the renderer's verifier asks for chain facts.
 * Off by default: with no settings, or with them disabled, nothing runs and nothing is faked.
 *
 * @polkadot/api is loaded only when anchoring is on, or when the chain is read.
 */
import { type AnchorArg, type AnchorReceipt, type ChainFacts, parseCallSpec } from '../../shared/anchor.js';
import type { AnchorView, ChainSettingsView, ChainStatusView } from '../../shared/ipc-contract.js';
import type { Archive } from '../archive/archive.js';
import { AnchorStore, anchorJson, type AnchorRow } from '../archive/anchors.js';
import type { Anchorer, AnchorStatus } from '../chain/anchorer.js';
import type { ChainClient } from '../chain/chain-client.js';
import { checkEndpoint } from '../chain/endpoint.js';
import type { Signer, SignerSpec } from '../chain/signer.js';

/** The chain settings kept in settings.json (never a secret). */
export interface ChainSettings {
  readonly enabled: boolean;
  readonly endpoint: string;
  readonly call: string;
  readonly args: readonly AnchorArg[];
  readonly everyMinutes: number;
  readonly everyBlocks: number;
}

export const DEFAULT_CHAIN_SETTINGS: ChainSettings = {
  enabled: false,
  endpoint: '',
  call: 'system.remarkWithEvent',
  args: ['remark'],
  everyMinutes: 10,
  everyBlocks: 1000,
};

export class NoChainError extends Error {
  override readonly name = 'NoChainError';
  readonly code = 'ERR_NO_CHAIN';
}

const anchorView = (r: AnchorRow): AnchorView => anchorJson(r);

export class ChainService {
  readonly #archive: Archive;
  readonly #emit: (s: ChainStatusView) => void;
  #settings: ChainSettings;
  #signer: Signer | undefined;
  #anchorer: Anchorer | undefined;
  #reader: ChainClient | undefined;
  #readerEndpoint: string | undefined;

  constructor(archive: Archive, settings: ChainSettings | undefined, emit: (s: ChainStatusView) => void) {
    this.#archive = archive;
    this.#settings = settings ?? DEFAULT_CHAIN_SETTINGS;
    this.#emit = emit;
  }

  get settings(): ChainSettingsView {
    return { ...this.#settings, args: [...this.#settings.args], signer: this.#signer?.accountId ?? null };
  }

  /** Checks settings without applying them: a bad endpoint or call mapping is refused by name. */
  static check(s: ChainSettings): ChainSettings {
    if (s.enabled || s.endpoint !== '') checkEndpoint(s.endpoint);
    parseCallSpec(s.call, s.args);
    return s;
  }

  /** Applies new settings and, when given, a new signer; restarts the policy loop. */
  async configure(settings: ChainSettings, signer?: SignerSpec | Signer): Promise<void> {
    ChainService.check(settings);
    if (signer !== undefined) {
      if ('pair' in signer) this.#signer = signer;
      else {
        const { loadSigner } = await import('../chain/signer.js');
        this.#signer = await loadSigner(signer);
      }
    }
    this.#settings = settings;
    await this.#restart();
  }

  async #restart(): Promise<void> {
    await this.#anchorer?.close();
    this.#anchorer = undefined;
    const s = this.#settings;
    if (s.enabled && this.#signer) {
      const { Anchorer } = await import('../chain/anchorer.js');
      this.#anchorer = Anchorer.start({
        archive: this.#archive,
        endpoint: s.endpoint,
        signer: this.#signer,
        call: { call: s.call, args: s.args },
        policy: { everyMs: s.everyMinutes * 60_000, everyBlocks: s.everyBlocks },
      });
      this.#anchorer.onStatus((st) => this.#emit(this.#view(st)));
    }
    this.#emit(this.status());
  }

  #view(st: AnchorStatus | undefined): ChainStatusView {
    const s = this.#settings;
    const store = new AnchorStore(this.#archive.ctx.db);
    const last = store.latestAnchored();
    const pending = store.pending();
    const state = !s.enabled ? 'off' : !this.#signer ? 'no-signer' : (st?.state ?? 'idle');
    return {
      state: state === 'stopped' ? 'off' : state,
      endpoint: s.endpoint || null,
      signer: this.#signer?.accountId ?? null,
      pending: pending ? anchorView(pending) : null,
      last: last ? anchorView(last) : null,
    };
  }

  status(): ChainStatusView {
    return this.#view(this.#anchorer?.status);
  }

  anchors(limit: number): AnchorView[] {
    return new AnchorStore(this.#archive.ctx.db).list(limit).map(anchorView);
  }

  /** Checkpoints and anchors now (the policy loop keeps retrying if the chain is down). */
  async anchorNow(): Promise<AnchorView> {
    if (!this.#settings.enabled) throw new NoChainError('chain anchoring is off: turn it on in Settings');
    if (!this.#anchorer) throw new NoChainError('no signer: start with --suri or --keystore, or enter one in Settings');
    return anchorView(await this.#anchorer.anchorNow());
  }

  /** What the configured chain says about a receipt's block (the renderer's verifier judges it). */
  async read(receipt: AnchorReceipt): Promise<ChainFacts> {
    const endpoint = this.#settings.endpoint;
    if (!endpoint) throw new NoChainError('no chain endpoint is configured (Settings)');
    if (!this.#reader?.connected || this.#readerEndpoint !== endpoint) {
      await this.#reader?.close();
      const { ChainClient } = await import('../chain/chain-client.js');
      this.#reader = await ChainClient.connect(endpoint);
      this.#readerEndpoint = endpoint;
    }
    return this.#reader.readAnchor(receipt);
  }

  async close(): Promise<void> {
    await this.#anchorer?.close();
    this.#anchorer = undefined;
    await this.#reader?.close();
    this.#reader = undefined;
  }
}
