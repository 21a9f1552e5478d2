/** What a verified access token says about its bearer; `request.user` on guarded routes. */
export interface AuthPrincipal {
  /** User id (`sub`). */
  id: string;
  /** Session id (`sid`). */
  sessionId: string;
  roles: string[];
  /** Token id (`jti`). */
  tokenId: string;
  /** Expiry of the access token, seconds since the epoch. */
  expiresAt: number;
}

/** Claims of an access token. */
export interface AccessTokenClaims {
  iss: string;
  aud: string;
  sub: string;
  exp: number;
  iat: number;
  jti: string;
  sid: string;
  roles: string[];
}

/** A request the guard has authenticated: `request.user` is the caller (Express or Fastify). */
export interface AuthenticatedRequest {
  headers: Record<string, string | string[] | undefined>;
  user?: AuthPrincipal;
}
