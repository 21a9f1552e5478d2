import {
  type ArgumentsHost,
  Catch,
  type ExceptionFilter,
  HttpException,
  HttpStatus,
} from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { LoginLockedException } from '../login-attempts/login-attempts.service';
import { OAuthError, type OAuthErrorCode } from './oauth-error';

/**
 * Answers the OAuth endpoints' errors as RFC 6749 §5.2 says: `{ error, error_description }` with
 * `Cache-Control: no-store`. A failed password or refresh-token check is `invalid_grant`;
 * rate limits and outages keep their own status.
 */
@Catch(OAuthError, HttpException)
export class OAuthExceptionFilter implements ExceptionFilter {
  catch(exception: OAuthError | HttpException, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const { status, body } = toOAuthResponse(exception);
    if (exception instanceof LoginLockedException) {
      void reply.header('Retry-After', String(exception.retryAfterSeconds));
    }
    void reply
      .status(status)
      .header('Cache-Control', 'no-store')
      .header('Pragma', 'no-cache')
      .send(body);
  }
}

function toOAuthResponse(exception: OAuthError | HttpException) {
  if (exception instanceof OAuthError) {
    return {
      status: exception.status,
      body: { error: exception.error, error_description: exception.description },
    };
  }
  const status: number = exception.getStatus();
  const code: OAuthErrorCode | undefined =
    status === (HttpStatus.UNAUTHORIZED as number)
      ? 'invalid_grant'
      : status === (HttpStatus.BAD_REQUEST as number)
        ? 'invalid_request'
        : undefined;
  if (code) {
    return {
      status: HttpStatus.BAD_REQUEST,
      body: { error: code, error_description: exception.message },
    };
  }
  // Not an OAuth condition (413, 429, 503...): keep the status and the usual body.
  return { status, body: exception.getResponse() };
}
