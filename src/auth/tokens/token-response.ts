/** The JSON of a successful login or refresh. */
export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  /** Seconds until the access token expires. */
  expires_in: number;
  /** Absent with the cookie transport, where the token is in the cookie, and without refresh tokens. */
  refresh_token?: string;
  /** Seconds until the refresh token stops working (the session's nearer end); absent without one. */
  refresh_token_expires_in?: number;
  session_id: string;
}

/** What the auth service hands the transport: the response plus the raw refresh token, if any. */
export interface IssuedTokens {
  accessToken: string;
  expiresIn: number;
  /** Absent in access-token-only mode. */
  refreshToken?: string;
  refreshTokenExpiresIn?: number;
  sessionId: string;
}

export function toTokenResponse(tokens: IssuedTokens): TokenResponse {
  return {
    access_token: tokens.accessToken,
    token_type: 'Bearer',
    expires_in: tokens.expiresIn,
    ...(tokens.refreshToken === undefined
      ? {}
      : {
          refresh_token: tokens.refreshToken,
          refresh_token_expires_in: tokens.refreshTokenExpiresIn,
        }),
    session_id: tokens.sessionId,
  };
}
