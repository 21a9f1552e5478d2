import { HttpException, HttpStatus } from '@nestjs/common';

/**
 * 429 for an account past its failed-login limit; `Retry-After` tells when to try again.
 * @publicApi
 */
export class LoginLockedException extends HttpException {
  constructor(readonly retryAfterSeconds: number) {
    // A JSON body as Nest's own exceptions have: given a bare string, an exception filter that
    // replies with `getResponse()` would send text (text/html on Express, text/plain on Fastify).
    super(
      HttpException.createBody(
        'Too many failed logins for this account; try again later',
        'Too Many Requests',
        HttpStatus.TOO_MANY_REQUESTS,
      ),
      HttpStatus.TOO_MANY_REQUESTS,
    );
  }
}
