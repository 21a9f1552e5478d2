import { Inject, Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import type { ResolvedAuthOptions } from '../interfaces/auth-module-options.interface';
import type { LoginAttemptStore } from './login-attempt-store';
import { LoginLockedException } from './login-locked.exception';
import { InjectAuthOptions } from '../decorators/inject-auth-options.decorator';

/** The store the module counts with: `options.loginAttemptStore`, or one in memory. */
export const LOGIN_ATTEMPT_STORE = Symbol('LOGIN_ATTEMPT_STORE');

/**
 * Locks an account after `maxFailures` failed logins within the window: every login for it
 * then answers 429, even with the right password, until the window ends. Other accounts are
 * untouched. Accounts are keyed by a hash of the email, so the store holds no addresses.
 */
@Injectable()
export class LoginAttemptsService {
  constructor(
    @InjectAuthOptions() private readonly options: ResolvedAuthOptions,
    @Inject(LOGIN_ATTEMPT_STORE) private readonly store: LoginAttemptStore,
  ) {}

  /** Throws LoginLockedException when the account is locked. */
  async assertNotLocked(email: string): Promise<void> {
    const state = await this.store.get(keyFor(email));
    if (state && state.failures >= this.options.loginAttempts.maxFailures) {
      throw new LoginLockedException(Math.max(1, Math.ceil(state.resetInMs / 1000)));
    }
  }

  async recordFailure(email: string): Promise<void> {
    await this.store.recordFailure(keyFor(email), this.options.loginAttempts.windowSeconds * 1000);
  }

  async recordSuccess(email: string): Promise<void> {
    await this.store.clear(keyFor(email));
  }
}

function keyFor(email: string): string {
  return `login-failures:${createHash('sha256').update(email).digest('base64url')}`;
}
