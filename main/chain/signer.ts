/**
 * The key that signs anchoring transactions: a secret URI (`//Alice`, a mnemonic, a raw seed) or a
 * polkadot-js encrypted JSON keystore unlocked with a password. Neither the URI nor the password
 * is ever written anywhere by Pakit.
 */
import { readFileSync } from 'node:fs';
import { Keyring } from '@polkadot/keyring';
import type { KeyringPair, KeyringPair$Json } from '@polkadot/keyring/types';
import { u8aToHex } from '@polkadot/util';
import { cryptoWaitReady, decodeAddress } from '@polkadot/util-crypto';
import { errCode } from '../util/error-code.js';

export class SignerError extends Error {
  override readonly name = 'SignerError';
  readonly code = 'ERR_SIGNER';
}

export type SignerSpec =
  | { readonly suri: string; readonly type?: 'sr25519' | 'ed25519' }
  | { readonly keystore: string; readonly password: string };

export interface Signer {
  readonly pair: KeyringPair;
  /** The account id, 0x hex (what receipts carry). */
  readonly accountId: string;
}

export async function loadSigner(spec: SignerSpec): Promise<Signer> {
  await cryptoWaitReady();
  const pair =
    'suri' in spec ? fromSuri(spec.suri, spec.type ?? 'sr25519') : fromKeystore(spec.keystore, spec.password);
  return { pair, accountId: u8aToHex(decodeAddress(pair.address)) };
}

function fromSuri(suri: string, type: 'sr25519' | 'ed25519'): KeyringPair {
  if (suri.trim() === '') throw new SignerError('the secret URI is empty');
  try {
    return new Keyring({ type }).addFromUri(suri);
  } catch (e) {
    // The message may quote the secret: say what kind of thing was wrong, not the value.
    throw new SignerError(`the secret URI is not valid (${(e as Error).message.split(':')[0]})`);
  }
}

function fromKeystore(file: string, password: string): KeyringPair {
  let json: KeyringPair$Json;
  try {
    json = JSON.parse(readFileSync(file, 'utf8')) as KeyringPair$Json;
  } catch (e) {
    if (errCode(e) === 'ENOENT') throw new SignerError(`keystore ${file} does not exist`);
    throw new SignerError(`keystore ${file} is not a JSON keystore: ${(e as Error).message}`);
  }
  let pair: KeyringPair;
  try {
    pair = new Keyring().addFromJson(json);
  } catch (e) {
    throw new SignerError(`keystore ${file} is not a polkadot-js keystore: ${(e as Error).message}`);
  }
  try {
    pair.decodePkcs8(password);
  } catch {
    throw new SignerError(`keystore ${file}: wrong password`);
  }
  return pair;
}
