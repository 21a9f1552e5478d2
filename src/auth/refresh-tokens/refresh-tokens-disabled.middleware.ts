import { Injectable, type NestMiddleware, NotFoundException } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';

/**
 * Answers `POST /auth/refresh` in access-token-only mode as Nest answers a route that does not
 * exist. Middleware runs before the body is read, so the answer is that 404 whatever the body
 * (malformed, not JSON, too large), which a guard or the handler could not promise.
 */
@Injectable()
export class RefreshTokensDisabledMiddleware implements NestMiddleware {
  use(request: IncomingMessage & { originalUrl?: string }): never {
    throw new NotFoundException(`Cannot ${request.method} ${request.originalUrl ?? request.url}`);
  }
}
