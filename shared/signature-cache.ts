/**
 * Checkpoint signature checks for the verifier. Bundles from one archive usually share a checkpoint,
 * so a batch checks each distinct (public key, message, signature) once and reuses the verdict.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { toHex } from './bytes.js';
import { checkpointMessage, type SignedCheckpoint } from './checkpoint.js';

/** Checks an Ed25519 signature; must return false (not throw) for anything invalid. */
export type SignatureVerifier = (signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array) => boolean;

/**
 * Strict RFC 8032 verification. ZIP-215 (noble's default for ed25519) accepts small-order keys, for
 * which one signature can verify against any message; an archive key must not be able to do that.
 */
export const verifyEd25519: SignatureVerifier = (signature, message, publicKey) => {
  try {
    return ed25519.verify(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
};

/** Whether a checkpoint's signature verifies (strictly, as verifyEd25519) with `publicKey`. */
export function verifyCheckpointSignature(c: SignedCheckpoint, publicKey: Uint8Array): boolean {
  if (publicKey.length !== 32 || c.signature.length !== 64) return false;
  return verifyEd25519(c.signature, checkpointMessage(c), publicKey);
}

/**
 * Wraps `verifier` so each distinct (key, message, signature) is checked once; both verdicts are
 * kept, so a bad signature repeated across a batch is not re-checked either.
 */
export function cachedVerifier(verifier: SignatureVerifier): SignatureVerifier {
  const seen = new Map<string, boolean>();
  return (signature, message, publicKey) => {
    // Key and signature have fixed lengths here, so the concatenation with the message is unambiguous;
    // the lengths are part of the key anyway, so odd-length inputs cannot alias.
    const key = `${publicKey.length}:${signature.length}:${toHex(publicKey)}${toHex(signature)}${toHex(message)}`;
    let ok = seen.get(key);
    if (ok === undefined) {
      ok = verifier(signature, message, publicKey) === true;
      seen.set(key, ok);
    }
    return ok;
  };
}
