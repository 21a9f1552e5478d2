import { Injectable } from '@nestjs/common';
import { AuthService, type ClientContext } from '../auth.service';
import { isWellFormedRefreshToken } from '../refresh-tokens/refresh-token-value';
import { SessionsService } from '../sessions/sessions.service';
import { AccessTokenVerifier } from '../tokens/access-token.verifier';
import { type TokenResponse, toTokenResponse } from '../tokens/token-response';
import { OAuthError } from './oauth-error';
import type { OAuthParameters } from './oauth-parameters';

/** The OAuth grants, over the same login, rotation and revocation as `/auth/*`. */
@Injectable()
export class OAuthService {
  constructor(
    private readonly auth: AuthService,
    private readonly sessions: SessionsService,
    private readonly verifier: AccessTokenVerifier,
  ) {}

  async token(params: OAuthParameters, client: ClientContext): Promise<TokenResponse> {
    const grantType = params.required('grant_type', 64);
    params.optional('client_id', 256);
    switch (grantType) {
      case 'password': {
        const email = params.required('username', 254).trim().toLowerCase();
        // The username is the one parameter stored as text, which cannot hold U+0000.
        if (email.includes('\u0000')) {
          throw new OAuthError('invalid_request', 'username must not contain NUL characters');
        }
        const password = params.required('password', 128);
        return toTokenResponse(await this.auth.login({ email, password }, client));
      }
      case 'refresh_token':
        return toTokenResponse(await this.auth.refresh(params.required('refresh_token', 512)));
      default:
        throw new OAuthError('unsupported_grant_type', 'Supported grants: password, refresh_token');
    }
  }

  /**
   * RFC 7009: a refresh token ends its session; so does an access token of ours (§2.1 lets the
   * server revoke the related grant). Unknown or invalid tokens are ignored.
   */
  async revoke(params: OAuthParameters): Promise<void> {
    const token = params.required('token', 8192);
    params.optional('token_type_hint', 64);
    if (isWellFormedRefreshToken(token)) {
      await this.auth.logoutWithRefreshToken(token);
      return;
    }
    let sessionId: string;
    try {
      sessionId = this.verifier.verify(token).sessionId;
    } catch {
      return;
    }
    await this.sessions.end(sessionId, 'logout');
  }
}
