import { type ExecutionContext, Injectable, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import { IS_PUBLIC_KEY } from '../auth.constants';
import type { AuthPrincipal } from '../interfaces/auth-principal.interface';

interface ChallengeResponse {
  header(name: string, value: string): unknown;
}

/**
 * Requires a valid bearer access token unless the route is `@Public()`. On a public route a
 * valid bearer token still sets `request.user`; an invalid one is ignored there.
 * Failures answer 401 with the RFC 6750 `WWW-Authenticate` challenge.
 */
@Injectable()
export class JwtAuthGuard extends AuthGuard('jwt') {
  constructor(private readonly reflector: Reflector) {
    super();
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    if (!this.isPublic(context)) return (await super.canActivate(context)) as boolean;
    const request = context.switchToHttp().getRequest<{ headers: Record<string, unknown> }>();
    if (request.headers.authorization !== undefined) await super.canActivate(context);
    return true;
  }

  override handleRequest<TUser = AuthPrincipal>(
    error: unknown,
    user: TUser | false,
    info: unknown,
    context: ExecutionContext,
  ): TUser {
    if (!error && user) return user;
    // An unusable bearer token on a public route leaves the caller anonymous.
    if (this.isPublic(context)) return undefined as TUser;
    const missing = !error && info instanceof Error && info.message === 'No auth token';
    const response = context.switchToHttp().getResponse<ChallengeResponse>();
    if (missing) {
      response.header('WWW-Authenticate', 'Bearer');
      throw new UnauthorizedException('Missing bearer token');
    }
    response.header('WWW-Authenticate', 'Bearer error="invalid_token"');
    throw new UnauthorizedException('Invalid or expired access token');
  }

  private isPublic(context: ExecutionContext): boolean {
    return this.reflector.getAllAndOverride<boolean>(IS_PUBLIC_KEY, [
      context.getHandler(),
      context.getClass(),
    ]);
  }
}
