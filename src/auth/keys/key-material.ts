import {
  createHash,
  createPrivateKey,
  createPublicKey,
  createSecretKey,
  generateKeyPairSync,
  type JsonWebKey,
  type KeyObject,
} from 'node:crypto';
import type { AccessTokenAlgorithm } from '../interfaces/auth-module-options.interface';

export type AsymmetricAlgorithm = Exclude<AccessTokenAlgorithm, 'HS256'>;

/** A key ready for use: imported once, so no PEM or secret is parsed per request. */
export interface ActiveKey {
  kid: string;
  alg: AccessTokenAlgorithm;
  signingKey: KeyObject;
  verificationKey: KeyObject;
}

export function generatePrivateKey(algorithm: AsymmetricAlgorithm): KeyObject {
  return algorithm === 'ES256'
    ? generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey
    : generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
}

/** Imports a PEM private key and checks that it fits the algorithm; throws a sentence otherwise. */
export function importPrivateKey(algorithm: AsymmetricAlgorithm, pem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch {
    throw new Error(
      'AuthModule: the private key is not a readable PEM private key: check the `privateKey` option.',
    );
  }
  const fits =
    algorithm === 'ES256'
      ? key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1'
      : key.asymmetricKeyType === 'rsa' && (key.asymmetricKeyDetails?.modulusLength ?? 0) >= 2048;
  if (!fits) {
    throw new Error(
      `AuthModule: the private key does not fit ${algorithm}; ES256 needs a P-256 EC key, RS256 an RSA key of at least 2048 bits: check the 'privateKey' option.`,
    );
  }
  return key;
}

export function asymmetricKey(algorithm: AsymmetricAlgorithm, signingKey: KeyObject): ActiveKey {
  const verificationKey = createPublicKey(signingKey);
  return { kid: jwkThumbprint(verificationKey), alg: algorithm, signingKey, verificationKey };
}

export function hmacKey(secret: string): ActiveKey {
  const key = createSecretKey(Buffer.from(secret, 'utf8'));
  // A label derived from the secret, so that a changed secret gets a new kid.
  const kid = createHash('sha256').update('kid:').update(secret).digest('base64url').slice(0, 16);
  return { kid, alg: 'HS256', signingKey: key, verificationKey: key };
}

/** RFC 7638 thumbprint of a public key. */
export function jwkThumbprint(publicKey: KeyObject): string {
  const jwk = publicKey.export({ format: 'jwk' });
  const members =
    jwk.kty === 'EC'
      ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y }
      : { e: jwk.e, kty: jwk.kty, n: jwk.n };
  return createHash('sha256').update(JSON.stringify(members)).digest('base64url');
}

/** The public JWK of an asymmetric key, as the JWKS publishes it. */
export function publicJwk(key: ActiveKey): JsonWebKey & { kid: string; alg: string; use: 'sig' } {
  return {
    ...key.verificationKey.export({ format: 'jwk' }),
    kid: key.kid,
    alg: key.alg,
    use: 'sig',
  };
}
