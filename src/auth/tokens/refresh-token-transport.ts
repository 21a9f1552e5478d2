import type { FastifyReply, FastifyRequest } from 'fastify';
import { AUTH_TRANSPORT_HEADER, REFRESH_COOKIE_NAME, REFRESH_COOKIE_PATH } from '../auth.constants';
import { type IssuedTokens, type TokenResponse, toTokenResponse } from './token-response';

/**
 * Body or cookie transport of the refresh token. A request asks for the cookie transport with
 * `Auth-Transport: cookie`; the cookie is read only when that header is present, which a
 * cross-site form or fetch cannot add without CORS consent (the CSRF defence).
 */
export class RefreshTokenTransport {
  constructor(private readonly cookieSecure: boolean) {}

  static usesCookie(request: FastifyRequest): boolean {
    const header = request.headers[AUTH_TRANSPORT_HEADER];
    return typeof header === 'string' && header.trim().toLowerCase() === 'cookie';
  }

  /** The refresh token the request presents, from the cookie or the body. */
  read(request: FastifyRequest, bodyToken: string | undefined): string | undefined {
    return RefreshTokenTransport.usesCookie(request)
      ? request.cookies?.[REFRESH_COOKIE_NAME]
      : bodyToken;
  }

  /** The token response; with the cookie transport the refresh token goes into the cookie. */
  respond(request: FastifyRequest, reply: FastifyReply, tokens: IssuedTokens): TokenResponse {
    const response = toTokenResponse(tokens);
    if (tokens.refreshToken === undefined || !RefreshTokenTransport.usesCookie(request)) {
      return response;
    }
    reply.setCookie(REFRESH_COOKIE_NAME, tokens.refreshToken, {
      ...this.cookieAttributes(),
      maxAge: tokens.refreshTokenExpiresIn,
    });
    delete response.refresh_token;
    return response;
  }

  clear(reply: FastifyReply): void {
    reply.clearCookie(REFRESH_COOKIE_NAME, this.cookieAttributes());
  }

  private cookieAttributes() {
    return {
      httpOnly: true,
      secure: this.cookieSecure,
      sameSite: 'strict' as const,
      path: REFRESH_COOKIE_PATH,
    };
  }
}
