import { Controller, Delete, Get, HttpCode, HttpStatus, Param } from '@nestjs/common';
import { AuthRoutes } from '../decorators/auth-routes.decorator';
import { CurrentUser } from '../decorators/current-user.decorator';
import type { AuthPrincipal } from '../interfaces/auth-principal.interface';
import { type SessionView, SessionsService } from './sessions.service';

/** The caller's own sessions: see them, end one. */
@Controller('auth/sessions')
@AuthRoutes()
export class SessionsController {
  constructor(private readonly sessions: SessionsService) {}

  @Get()
  list(@CurrentUser() principal: AuthPrincipal): Promise<SessionView[]> {
    return this.sessions.listActive(principal);
  }

  /** 404 when the id is not one of the caller's active sessions. */
  @Delete(':id')
  @HttpCode(HttpStatus.NO_CONTENT)
  end(@CurrentUser() principal: AuthPrincipal, @Param('id') sessionId: string): Promise<void> {
    return this.sessions.endOwn(principal, sessionId);
  }
}
