import { Injectable } from '@nestjs/common';
import { Algorithm, hash, verify } from '@node-rs/argon2';
import type { ResolvedAuthOptions } from '../interfaces/auth-module-options.interface';
import { InjectAuthOptions } from '../decorators/inject-auth-options.decorator';

/**
 * argon2id hashing. `@node-rs/argon2` runs on the libuv thread pool, never on the event loop,
 * and ships prebuilt binaries (a fresh `npm ci` needs no compiler).
 */
@Injectable()
export class PasswordHasher {
  private dummyHash?: Promise<string>;

  constructor(@InjectAuthOptions() private readonly options: ResolvedAuthOptions) {}

  hash(password: string): Promise<string> {
    return hash(password, { algorithm: Algorithm.Argon2id, ...this.options.passwordHashing });
  }

  /** True when `password` matches `passwordHash`; false for a malformed hash. */
  async verify(passwordHash: string, password: string): Promise<boolean> {
    try {
      return await verify(passwordHash, password);
    } catch {
      return false;
    }
  }

  /**
   * Spends the time of a real verification when there is no user to verify against, so that
   * an unknown email answers as slowly as a wrong password.
   */
  async verifyAgainstDummy(password: string): Promise<false> {
    this.dummyHash ??= this.hash('dummy password that never matches');
    await this.verify(await this.dummyHash, password);
    return false;
  }
}
