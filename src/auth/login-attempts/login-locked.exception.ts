import { HttpException, HttpStatus } from '@nestjs/common';

/**
 * 429 for an account past its failed-login limit; `Retry-After` tells when to try again.
 * @publicApi
 */
export class LoginLockedException extends HttpException {
  constructor(readonly retryAfterSeconds: number) {
    super('Too many failed logins for this account; try again later', HttpStatus.TOO_MANY_REQUESTS);
  }
}
