import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { createPrivateKey } from 'node:crypto';
import type { ResolvedAuthOptions } from '../interfaces/auth-module-options.interface';
import {
  type ActiveKey,
  asymmetricKey,
  hmacKey,
  importPrivateKey,
  publicJwk,
} from './key-material';
import { SigningKeyRepository, type StoredKey } from './signing-key.repository';
import { InjectAuthOptions } from '../decorators/inject-auth-options.decorator';

/** How often every instance re-reads the keys table (NOTIFY makes it immediate). */
export const KEY_RELOAD_INTERVAL_MS = 15_000;

interface LoadedKey extends ActiveKey {
  /** Epoch ms from which the key signs. */
  activatesAt: number;
  /** Epoch ms until which the key verifies: its successor's activation plus a token lifetime. */
  verifiesUntil: number;
}

/**
 * The keys access tokens are signed and verified with, held in memory. ES256/RS256 keys come
 * from the `privateKey` option or are generated and kept in the database, where
 * `npm run keys:rotate` adds the next one; HS256 uses the secret. The newest active key signs;
 * a key that was replaced keeps verifying until the tokens it signed have expired.
 */
@Injectable()
export class SigningKeysService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(SigningKeysService.name);
  private keys: LoadedKey[] = [];
  private byKid = new Map<string, LoadedKey>();
  private reloadTimer?: NodeJS.Timeout;

  constructor(
    @InjectAuthOptions() private readonly options: ResolvedAuthOptions,
    private readonly repository: SigningKeyRepository,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.reload(true);
    if (this.usesStoredKeys()) {
      this.reloadTimer = setInterval(() => {
        this.reload().catch((error: Error) =>
          this.logger.warn(`reloading signing keys failed: ${error.message}`),
        );
      }, KEY_RELOAD_INTERVAL_MS);
      this.reloadTimer.unref();
    }
  }

  onApplicationShutdown(): void {
    clearInterval(this.reloadTimer);
  }

  /** Re-reads the keys (after a rotation or retirement, or periodically). */
  async reload(createIfNone = false): Promise<void> {
    const keys = this.usesStoredKeys()
      ? await this.loadStoredKeys(createIfNone)
      : [this.configuredKey()];
    this.keys = keys;
    this.byKid = new Map(keys.map((key) => [key.kid, key]));
  }

  /** The key new tokens are signed with: the newest one whose activation has come. */
  currentKey(): ActiveKey {
    const now = Date.now();
    return this.keys.find((key) => key.activatesAt <= now) ?? this.keys[this.keys.length - 1];
  }

  /** The key with this id, if it is one of ours and still verifies. */
  findVerificationKey(kid: string): ActiveKey | undefined {
    const key = this.byKid.get(kid);
    return key && key.verifiesUntil >= Date.now() ? key : undefined;
  }

  /** Public keys for `/.well-known/jwks.json`: upcoming, current and previous. Never HS256. */
  publicKeys() {
    const now = Date.now();
    return this.keys
      .filter((key) => key.alg !== 'HS256' && key.verifiesUntil >= now)
      .map((key) => publicJwk(key));
  }

  private usesStoredKeys(): boolean {
    return this.options.algorithm !== 'HS256' && !this.options.privateKey;
  }

  private configuredKey(): LoadedKey {
    const { algorithm, secret, privateKey } = this.options;
    const key =
      algorithm === 'HS256'
        ? hmacKey(secret!)
        : asymmetricKey(algorithm, importPrivateKey(algorithm, privateKey!));
    return { ...key, activatesAt: 0, verifiesUntil: Infinity };
  }

  private async loadStoredKeys(createIfNone: boolean): Promise<LoadedKey[]> {
    const alg = this.options.algorithm as StoredKey['alg'];
    const stored = createIfNone
      ? await this.repository.findOrCreateUsable(alg)
      : await this.repository.findUsable(alg);
    const windows = verificationWindows(stored, this.horizonMs());
    const now = Date.now();
    return stored
      .map((key, i) => ({
        ...asymmetricKey(alg, createPrivateKey(key.privateKey)),
        activatesAt: key.activatesAt.getTime(),
        verifiesUntil: windows[i],
      }))
      .filter((key) => key.verifiesUntil >= now);
  }

  /** How long a token signed just before a key was replaced can still be accepted. */
  private horizonMs(): number {
    return (this.options.accessTokenTtl + this.options.clockTolerance) * 1000;
  }
}

/**
 * Until when each key verifies, for keys sorted newest activation first: a key verifies until
 * its successor has been active for one token lifetime (`horizonMs`); the newest, forever.
 */
export function verificationWindows(keys: { activatesAt: Date }[], horizonMs: number): number[] {
  return keys.map((_key, i) =>
    i === 0 ? Infinity : keys[i - 1].activatesAt.getTime() + horizonMs,
  );
}
