import type { AsymmetricAlgorithm } from './key-material';
import type { SigningKeyRepository } from './signing-key.repository';
import { verificationWindows } from './signing-keys.service';

export interface RotationResult {
  kid: string;
  activatesAt: Date;
  /** Keys whose tokens have all expired, retired by this rotation. */
  retired: string[];
}

/**
 * Adds the next signing key, active after `activateInSeconds` (every instance learns it first,
 * so its tokens verify everywhere from the first one), and retires keys that no longer verify
 * anything (replaced more than one token lifetime ago).
 */
export async function rotateSigningKey(
  repository: SigningKeyRepository,
  alg: AsymmetricAlgorithm,
  options: { activateInSeconds: number; tokenLifetimeMs: number; now?: Date },
): Promise<RotationResult> {
  const now = options.now ?? new Date();
  const activatesAt = new Date(now.getTime() + options.activateInSeconds * 1000);
  const kid = await repository.rotate(alg, activatesAt);
  const keys = await repository.findUsable(alg);
  const windows = verificationWindows(keys, options.tokenLifetimeMs);
  const retired = keys.filter((_key, i) => windows[i] < now.getTime()).map((key) => key.kid);
  await repository.retire(retired, now);
  return { kid, activatesAt, retired };
}

export interface RevocationResult {
  /** The key that signs from now on, when the revoked one was signing. */
  replacedBy?: string;
}

/**
 * Retires a key at once (it leaked, say): it leaves the JWKS and every instance refuses its
 * tokens as soon as it hears the NOTIFY. If it was the signing key, a new one signs from now on
 * first, so sessions carry on: their next refresh is signed by it.
 */
export async function revokeSigningKey(
  repository: SigningKeyRepository,
  alg: AsymmetricAlgorithm,
  kid: string,
  now = new Date(),
): Promise<RevocationResult> {
  const keys = await repository.findUsable(alg);
  const key = keys.find((candidate) => candidate.kid === kid);
  if (!key) throw new Error(`No usable ${alg} key ${kid}.`);
  const signing = keys.find((candidate) => candidate.activatesAt <= now);
  const replacedBy = signing?.kid === kid ? await repository.rotate(alg, now) : undefined;
  await repository.retire([kid], now);
  return { replacedBy };
}
