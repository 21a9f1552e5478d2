import { type ArgumentsHost, Catch, type ExceptionFilter } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { LoginLockedException } from './login-locked.exception';

/** 429 with `Retry-After` for a locked account. */
@Catch(LoginLockedException)
export class LoginLockedFilter implements ExceptionFilter {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(exception: LoginLockedException, host: ArgumentsHost): void {
    const { httpAdapter } = this.adapterHost;
    const response: unknown = host.switchToHttp().getResponse();
    httpAdapter.setHeader(response, 'Retry-After', String(exception.retryAfterSeconds));
    httpAdapter.reply(response, exception.getResponse(), exception.getStatus());
  }
}
