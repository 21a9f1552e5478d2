import {
  type CanActivate,
  type ExecutionContext,
  Injectable,
  UnauthorizedException,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { IS_PUBLIC_KEY } from '../auth.constants';
import type { AuthenticatedRequest } from '../interfaces/auth-principal.interface';
import { AccessTokenVerifier } from '../tokens/access-token.verifier';

interface ChallengeResponse {
  header(name: string, value: string): unknown;
}

const BEARER = /^Bearer +([A-Za-z0-9._~+/-]+=*) *$/i;

/**
 * Requires a valid bearer access token (Authorization header only, never the query string)
 * unless the route is `@Public()`. On a public route a valid bearer token still sets
 * `request.user`; an unusable one is ignored there. Failures answer 401 with the RFC 6750
 * `WWW-Authenticate` challenge. Verification is in memory: no I/O per request.
 */
@Injectable()
export class JwtAuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly verifier: AccessTokenVerifier,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC_KEY, [
      context.getHandler(),
      context.getClass(),
    ]);
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const authorization = request.headers.authorization;

    if (authorization === undefined) {
      if (isPublic) return true;
      throw this.challenge(context, 'Bearer', 'Missing bearer token');
    }
    const token = typeof authorization === 'string' ? BEARER.exec(authorization)?.[1] : undefined;
    try {
      if (!token) throw new Error('not a bearer token');
      request.user = this.verifier.verify(token);
      return true;
    } catch {
      if (isPublic) return true;
      throw this.challenge(
        context,
        'Bearer error="invalid_token"',
        'Invalid or expired access token',
      );
    }
  }

  private challenge(
    context: ExecutionContext,
    header: string,
    message: string,
  ): UnauthorizedException {
    context.switchToHttp().getResponse<ChallengeResponse>().header('WWW-Authenticate', header);
    return new UnauthorizedException(message);
  }
}
