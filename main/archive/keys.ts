import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic-write.js';

/** The archive's Ed25519 key: made at creation, kept owner-only in `<data>/keys/archive.key`. */
export interface ArchiveKey {
  readonly publicKey: Uint8Array;
  sign(message: Uint8Array): Uint8Array;
}

export class KeyFileError extends Error {
  override readonly name = 'KeyFileError';
  readonly code = 'ERR_KEY_FILE';
}

function fromPrivate(priv: KeyObject): ArchiveKey {
  const jwk = createPublicKey(priv).export({ format: 'jwk' });
  const publicKey = new Uint8Array(Buffer.from(jwk.x!, 'base64url'));
  return { publicKey, sign: (m) => new Uint8Array(sign(null, m, priv)) };
}

export function keyPath(dataDir: string): string {
  return join(dataDir, 'keys', 'archive.key');
}

/** Loads the key, or creates it when `create` is set and none exists. */
export function loadOrCreateKey(dataDir: string, create: boolean): ArchiveKey | undefined {
  const file = keyPath(dataDir);
  if (existsSync(file)) {
    let priv: KeyObject;
    try {
      priv = createPrivateKey(readFileSync(file));
    } catch (e) {
      throw new KeyFileError(`cannot read the archive key ${file}: ${(e as Error).message}`);
    }
    if (priv.asymmetricKeyType !== 'ed25519') throw new KeyFileError(`${file} is not an Ed25519 key`);
    return fromPrivate(priv);
  }
  if (!create) return undefined;
  mkdirSync(join(dataDir, 'keys'), { recursive: true, mode: 0o700 });
  chmodSync(join(dataDir, 'keys'), 0o700);
  const { privateKey } = generateKeyPairSync('ed25519');
  writeFileAtomic(file, privateKey.export({ format: 'pem', type: 'pkcs8' }), 0o600);
  return fromPrivate(privateKey);
}
