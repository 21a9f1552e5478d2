import {
  type ArgumentsHost,
  Catch,
  type ExceptionFilter,
  HttpException,
  HttpStatus,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { LoginLockedException } from '../login-attempts/login-locked.exception';
import { OAuthError, type OAuthErrorCode } from './oauth-error';

/**
 * Answers the OAuth endpoints' errors as RFC 6749 §5.2 says: `{ error, error_description }` with
 * `Cache-Control: no-store`. A failed password or refresh-token check is `invalid_grant`;
 * rate limits and outages keep their own status.
 */
@Catch(OAuthError, HttpException)
export class OAuthExceptionFilter implements ExceptionFilter {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(exception: OAuthError | HttpException, host: ArgumentsHost): void {
    const { httpAdapter } = this.adapterHost;
    const response: unknown = host.switchToHttp().getResponse();
    const { status, body } = toOAuthResponse(exception);
    if (exception instanceof LoginLockedException) {
      httpAdapter.setHeader(response, 'Retry-After', String(exception.retryAfterSeconds));
    }
    httpAdapter.setHeader(response, 'Cache-Control', 'no-store');
    httpAdapter.setHeader(response, 'Pragma', 'no-cache');
    httpAdapter.reply(response, body, status);
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
  // Not an OAuth condition (413, 429, 503...): keep the status and the body Nest's own filter
  // would send, which for a bare string is `{ statusCode, message }`, never text.
  const response = exception.getResponse();
  return {
    status,
    body: typeof response === 'object' ? response : { statusCode: status, message: response },
  };
}
