import { HttpException, HttpStatus, Inject, Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { AUTH_OPTIONS } from '../auth.constants';
import type { ResolvedAuthOptions } from '../interfaces/auth-module-options.interface';
import type { LoginAttemptStore } from './login-attempt-store';

/** The store the module counts with: `options.loginAttemptStore`, or one in memory. */
export const LOGIN_ATTEMPT_STORE = Symbol('LOGIN_ATTEMPT_STORE');

/** 429 for an account past its failed-login limit; `Retry-After` tells when to try again. */
export class LoginLockedException extends HttpException {
  constructor(readonly retryAfterSeconds: number) {
    super('Too many failed logins for this account; try again later', HttpStatus.TOO_MANY_REQUESTS);
  }
}

/**
 * Locks an account after `maxFailures` failed logins within the window: every login for it
 * then answers 429, even with the right password, until the window ends. Other accounts are
 * untouched. Accounts are keyed by a hash of the email, so the store holds no addresses.
 */
@Injectable()
export class LoginAttemptsService {
  constructor(
    @Inject(AUTH_OPTIONS) private readonly options: ResolvedAuthOptions,
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
