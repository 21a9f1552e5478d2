import { Injectable } from '@nestjs/common';
import { AuthService, type ClientContext } from '../auth.service';
import { deviceIdProblem } from '../dto/device-id';
import type { ResolvedAuthOptions } from '../interfaces/auth-module-options.interface';
import { isWellFormedRefreshToken } from '../refresh-tokens/refresh-token-value';
import { SessionsService } from '../sessions/sessions.service';
import { AccessTokenVerifier } from '../tokens/access-token.verifier';
import { type TokenResponse, toTokenResponse } from '../tokens/token-response';
import { OAuthError } from './oauth-error';
import type { OAuthParameters } from './oauth-parameters';
import { InjectAuthOptions } from '../decorators/inject-auth-options.decorator';

/** The OAuth grants, over the same login, rotation and revocation as `/auth/*`. */
@Injectable()
export class OAuthService {
  constructor(
    @InjectAuthOptions() private readonly options: ResolvedAuthOptions,
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
        const login = { email, password, device_id: deviceId(params) };
        return toTokenResponse(await this.auth.login(login, client));
      }
      case 'refresh_token': {
        // Access-token-only mode: no refresh token exists to present.
        if (!this.options.refreshTokens) break;
        const refreshToken = params.required('refresh_token', 512);
        return toTokenResponse(await this.auth.refresh(refreshToken, deviceId(params)));
      }
    }
    throw new OAuthError(
      'unsupported_grant_type',
      `Supported grants: ${this.supportedGrants().join(', ')}`,
    );
  }

  /** The grants `/oauth/token` serves, as RFC 8414 metadata lists them. */
  supportedGrants(): string[] {
    return this.options.refreshTokens ? ['password', 'refresh_token'] : ['password'];
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

/** The optional `device_id` parameter, validated as `/auth/*` validates it. */
function deviceId(params: OAuthParameters): string | undefined {
  const value = params.optional('device_id');
  const problem = value === undefined ? undefined : deviceIdProblem(value);
  if (problem) throw new OAuthError('invalid_request', problem);
  return value;
}
