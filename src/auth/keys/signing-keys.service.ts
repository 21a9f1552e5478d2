import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  createSecretKey,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';
import { DataSource, IsNull } from 'typeorm';
import { AUTH_OPTIONS } from '../auth.constants';
import type {
  AccessTokenAlgorithm,
  ResolvedAuthOptions,
} from '../interfaces/auth-module-options.interface';
import { SigningKey } from './signing-key.entity';

/** A key ready for use: imported once, so no PEM or secret is parsed per request. */
export interface ActiveKey {
  kid: string;
  alg: AccessTokenAlgorithm;
  signingKey: KeyObject;
  verificationKey: KeyObject;
}

// Serialises key creation across instances that start at the same moment.
const KEY_CREATION_LOCK = 0x6e74_6b31; // "ntk1"

/**
 * The keys access tokens are signed and verified with. ES256/RS256 keys come from the
 * `privateKey` option or are generated once and kept in the database; HS256 uses the secret.
 */
@Injectable()
export class SigningKeysService implements OnModuleInit {
  private current!: ActiveKey;
  private readonly byKid = new Map<string, ActiveKey>();

  constructor(
    @Inject(AUTH_OPTIONS) private readonly options: ResolvedAuthOptions,
    private readonly dataSource: DataSource,
  ) {}

  async onModuleInit(): Promise<void> {
    const keys = await this.loadKeys();
    this.byKid.clear();
    for (const key of keys) this.byKid.set(key.kid, key);
    this.current = keys[0];
  }

  /** The key new tokens are signed with. */
  currentKey(): ActiveKey {
    return this.current;
  }

  /** The key with this id, if it is one of ours and still verifies. */
  findVerificationKey(kid: string): ActiveKey | undefined {
    return this.byKid.get(kid);
  }

  private async loadKeys(): Promise<ActiveKey[]> {
    const { algorithm, secret, privateKey } = this.options;
    if (algorithm === 'HS256') {
      const key = createSecretKey(Buffer.from(secret!, 'utf8'));
      // A label derived from the secret, so that a changed secret gets a new kid.
      const kid = createHash('sha256')
        .update('kid:')
        .update(secret!)
        .digest('base64url')
        .slice(0, 16);
      return [{ kid, alg: algorithm, signingKey: key, verificationKey: key }];
    }
    if (privateKey) return [toActiveKey(algorithm, importPrivateKey(algorithm, privateKey))];

    const stored = await this.dataSource.transaction(async (manager) => {
      await manager.query('SELECT pg_advisory_xact_lock($1)', [KEY_CREATION_LOCK]);
      const repository = manager.getRepository(SigningKey);
      const usable = await repository.find({
        where: { alg: algorithm, retiredAt: IsNull() },
        order: { createdAt: 'DESC' },
      });
      if (usable.length > 0) return usable;
      const generated = toActiveKey(algorithm, generatePrivateKey(algorithm));
      const pem = generated.signingKey.export({ format: 'pem', type: 'pkcs8' }).toString();
      return [
        await repository.save({
          kid: generated.kid,
          alg: algorithm,
          privateKey: pem,
          retiredAt: null,
        }),
      ];
    });
    return stored.map((key) => toActiveKey(algorithm, createPrivateKey(key.privateKey)));
  }
}

function generatePrivateKey(algorithm: 'ES256' | 'RS256'): KeyObject {
  return algorithm === 'ES256'
    ? generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey
    : generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
}

/** Imports a PEM private key and checks that it fits the algorithm; throws a sentence otherwise. */
export function importPrivateKey(algorithm: 'ES256' | 'RS256', pem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch {
    throw new Error(
      'AuthModule: the private key is not a readable PEM private key (AUTH_JWT_PRIVATE_KEY).',
    );
  }
  const fits =
    algorithm === 'ES256'
      ? key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1'
      : key.asymmetricKeyType === 'rsa' && (key.asymmetricKeyDetails?.modulusLength ?? 0) >= 2048;
  if (!fits) {
    throw new Error(
      `AuthModule: the private key does not fit ${algorithm}; ES256 needs a P-256 EC key, RS256 an RSA key of at least 2048 bits (AUTH_JWT_PRIVATE_KEY).`,
    );
  }
  return key;
}

function toActiveKey(alg: AccessTokenAlgorithm, signingKey: KeyObject): ActiveKey {
  const verificationKey = createPublicKey(signingKey);
  return { kid: jwkThumbprint(verificationKey), alg, signingKey, verificationKey };
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
