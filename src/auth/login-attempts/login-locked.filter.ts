import { type ArgumentsHost, Catch, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { LoginLockedException } from './login-attempts.service';

/** 429 with `Retry-After` for a locked account. */
@Catch(LoginLockedException)
export class LoginLockedFilter implements ExceptionFilter {
  catch(exception: LoginLockedException, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    void reply
      .status(exception.getStatus())
      .header('Retry-After', String(exception.retryAfterSeconds))
      .send(exception.getResponse());
  }
}
