import { Controller, Get, Header, Inject } from '@nestjs/common';
import { AUTH_ROUTE_PREFIX } from '../auth.constants';
import { Public } from '../decorators/public.decorator';
import type { ResolvedAuthOptions } from '../interfaces/auth-module-options.interface';
import { SigningKeysService } from '../keys/signing-keys.service';
import { OAuthService } from './oauth.service';
import { InjectAuthOptions } from '../decorators/inject-auth-options.decorator';

/** RFC 8414 authorization-server metadata and the JWK set resource servers verify with. */
@Controller('.well-known')
@Public()
export class MetadataController {
  constructor(
    @InjectAuthOptions() private readonly options: ResolvedAuthOptions,
    private readonly keys: SigningKeysService,
    private readonly oauth: OAuthService,
    @Inject(AUTH_ROUTE_PREFIX) private readonly routePrefix: string,
  ) {}

  @Get('oauth-authorization-server')
  @Header('Cache-Control', 'public, max-age=300')
  metadata() {
    const base = this.options.issuer.replace(/\/+$/, '') + this.routePrefix;
    return {
      issuer: this.options.issuer,
      token_endpoint: `${base}/oauth/token`,
      revocation_endpoint: `${base}/oauth/revoke`,
      jwks_uri: `${base}/.well-known/jwks.json`,
      grant_types_supported: this.oauth.supportedGrants(),
      response_types_supported: [],
      token_endpoint_auth_methods_supported: ['none'],
      revocation_endpoint_auth_methods_supported: ['none'],
    };
  }

  /** Upcoming, current and previous public keys; HS256 secrets are never published. */
  @Get('jwks.json')
  @Header('Cache-Control', 'public, max-age=30')
  jwks() {
    return { keys: this.keys.publicKeys() };
  }
}
