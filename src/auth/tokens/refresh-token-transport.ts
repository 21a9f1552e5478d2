import { Inject, Injectable } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { parse as parseCookies, serialize as serializeCookie } from 'cookie';
import { AUTH_ROUTE_PREFIX, AUTH_TRANSPORT_HEADER, REFRESH_COOKIE_NAME } from '../auth.constants';
import { InjectAuthOptions } from '../decorators/inject-auth-options.decorator';
import type { AuthRequest } from '../http/auth-request';
import type { ResolvedAuthOptions } from '../interfaces/auth-module-options.interface';
import { type IssuedTokens, type TokenResponse, toTokenResponse } from './token-response';

/**
 * Body or cookie transport of the refresh token. A request asks for the cookie transport with
 * `Auth-Transport: cookie`; the cookie is read only when that header is present, which a
 * cross-site form or fetch cannot add without CORS consent (the CSRF defence).
 *
 * The cookie is read from the `Cookie` header and appended as a `Set-Cookie` header through the
 * app's HTTP adapter, so it works on Express and Fastify without a cookie plugin in the host, and
 * beside the cookies the host's own middleware sets.
 */
@Injectable()
export class RefreshTokenTransport {
  private readonly cookiePath: string;

  constructor(
    @InjectAuthOptions() private readonly options: ResolvedAuthOptions,
    @Inject(AUTH_ROUTE_PREFIX) routePrefix: string,
    private readonly adapterHost: HttpAdapterHost,
  ) {
    this.cookiePath = options.cookiePath ?? `${routePrefix}/auth`;
  }

  static usesCookie(request: AuthRequest): boolean {
    const header = request.headers[AUTH_TRANSPORT_HEADER];
    return typeof header === 'string' && header.trim().toLowerCase() === 'cookie';
  }

  /** The refresh token the request presents, from the cookie or the body. */
  read(request: AuthRequest, bodyToken: string | undefined): string | undefined {
    if (!RefreshTokenTransport.usesCookie(request)) return bodyToken;
    const header = request.headers.cookie;
    if (!header) return undefined;
    return parseCookies(header)[REFRESH_COOKIE_NAME] || undefined;
  }

  /** The token response; with the cookie transport the refresh token goes into the cookie. */
  respond(request: AuthRequest, response: unknown, tokens: IssuedTokens): TokenResponse {
    const body = toTokenResponse(tokens);
    if (tokens.refreshToken === undefined || !RefreshTokenTransport.usesCookie(request)) {
      return body;
    }
    this.setCookie(response, tokens.refreshToken, tokens.refreshTokenExpiresIn);
    delete body.refresh_token;
    return body;
  }

  /** Tells the browser to drop the cookie. */
  clear(response: unknown): void {
    this.setCookie(response, '', 0, new Date(0));
  }

  private setCookie(response: unknown, value: string, maxAge?: number, expires?: Date): void {
    const cookie = serializeCookie(REFRESH_COOKIE_NAME, value, {
      httpOnly: true,
      secure: this.options.cookieSecure,
      sameSite: 'strict',
      path: this.cookiePath,
      maxAge,
      expires,
    });
    this.adapterHost.httpAdapter.appendHeader(response, 'Set-Cookie', cookie);
  }
}
