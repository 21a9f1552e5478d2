/**
 * `nest-token-auth/keys`: signing-key management for a host's own scripts (the service's
 * `npm run keys:*` uses the same functions). Rotation adds a key every instance learns before
 * it signs; revocation retires a key at once (its tokens stop verifying within a second).
 */
export { SigningKeyRepository, type StoredKey } from './signing-key.repository';
export {
  revokeSigningKey,
  rotateSigningKey,
  type RevocationResult,
  type RotationResult,
} from './key-rotation';
export { importPrivateKey, type AsymmetricAlgorithm } from './key-material';
export { KEYS_CHANNEL, REVOCATION_CHANNEL } from '../auth.constants';
