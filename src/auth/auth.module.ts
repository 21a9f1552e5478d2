import {
  Inject,
  type MiddlewareConsumer,
  Module,
  type NestModule,
  RequestMethod,
} from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AUTH_OPTIONS, AUTH_ROUTE_PREFIX, resolveAuthOptions } from './auth.constants';
import { UserAdministrationService } from './admin/user-administration.service';
import { AUTH_ENTITIES } from './auth.entities';
import { AUTH_MODULE_OPTIONS, ConfigurableModuleClass } from './auth.module-definition';
import { AuthService } from './auth.service';
import { AdminBootstrap } from './users/admin-bootstrap';
import { JwtAuthGuard } from './guards/jwt-auth.guard';
import { RolesGuard } from './guards/roles.guard';
import type {
  AuthModuleOptions,
  ResolvedAuthOptions,
} from './interfaces/auth-module-options.interface';
import { MemoryLoginAttemptStore } from './login-attempts/login-attempt-store';
import { LOGIN_ATTEMPT_STORE, LoginAttemptsService } from './login-attempts/login-attempts.service';
import { SigningKeysService } from './keys/signing-keys.service';
import { PasswordHasher } from './passwords/password-hasher.service';
import { RefreshTokenRepository } from './refresh-tokens/refresh-token.repository';
import { RefreshTokensDisabledMiddleware } from './refresh-tokens/refresh-tokens-disabled.middleware';
import { RevokedSessions } from './sessions/revoked-sessions';
import { SessionCleanup } from './sessions/session-cleanup';
import { SessionRepository } from './sessions/session.repository';
import { SessionsService } from './sessions/sessions.service';
import { AuthEventPublisher } from './events/auth-event-publisher';
import { ChangeFeed } from './feed/change-feed';
import { OAuthService } from './oauth/oauth.service';
import { SigningKeyRepository } from './keys/signing-key.repository';
import { AccessTokenService } from './tokens/access-token.service';
import { AccessTokenVerifier } from './tokens/access-token.verifier';
import { RefreshTokenTransport } from './tokens/refresh-token-transport';
import { RefreshTokenKeys } from './refresh-tokens/refresh-token-keys';
import { UserStateRepository } from './users/user-state.repository';
import { InjectAuthOptions } from './decorators/inject-auth-options.decorator';

/**
 * Access tokens, rotating refresh tokens and sessions for a Nest app, on Express or Fastify.
 * The host provides the `AuthUserStore` (through `imports` of `forRootAsync`, or as a global
 * provider) and a TypeORM connection that knows `AUTH_ENTITIES` and runs `AUTH_MIGRATIONS`.
 *
 * @example
 * AuthModule.forRootAsync({
 *   imports: [AccountsModule],
 *   useFactory: () => ({ issuer: 'https://api.example.com' }),
 *   routes: { registration: false },
 * })
 * @publicApi
 */
@Module({
  // No forRoot() of another package here: the host's scheduler, event emitter and passport
  // strategies stay the host's (see AuthEventPublisher and SessionCleanup). The controllers are
  // chosen by the `routes` extra (auth.module-definition.ts).
  imports: [TypeOrmModule.forFeature(AUTH_ENTITIES)],
  providers: [
    {
      provide: AUTH_OPTIONS,
      inject: [AUTH_MODULE_OPTIONS],
      useFactory: (options: AuthModuleOptions) => resolveAuthOptions(options),
    },
    AuthService,
    AdminBootstrap,
    LoginAttemptsService,
    {
      // Its own token: the host may provide `LoginAttemptStore` to the options factory.
      provide: LOGIN_ATTEMPT_STORE,
      inject: [AUTH_OPTIONS],
      useFactory: (options: ResolvedAuthOptions) =>
        options.loginAttemptStore ?? new MemoryLoginAttemptStore(),
    },
    AuthEventPublisher,
    SessionsService,
    ChangeFeed,
    SigningKeyRepository,
    SessionCleanup,
    UserAdministrationService,
    OAuthService,
    PasswordHasher,
    SigningKeysService,
    AccessTokenService,
    AccessTokenVerifier,
    RefreshTokenTransport,
    RefreshTokenKeys,
    UserStateRepository,
    RefreshTokenRepository,
    SessionRepository,
    RevokedSessions,
    JwtAuthGuard,
    RolesGuard,
  ],
  exports: [
    AuthService,
    SessionsService,
    PasswordHasher,
    AccessTokenService,
    AccessTokenVerifier,
    JwtAuthGuard,
    RolesGuard,
    AUTH_OPTIONS,
  ],
})
export class AuthModule extends ConfigurableModuleClass implements NestModule {
  constructor(
    @InjectAuthOptions() private readonly options: ResolvedAuthOptions,
    @Inject(AUTH_ROUTE_PREFIX) private readonly routePrefix: string,
  ) {
    super();
  }

  configure(consumer: MiddlewareConsumer): void {
    if (!this.options.refreshTokens) {
      // A path given to forRoutes() does not get the RouterModule path of `routePrefix`.
      consumer
        .apply(RefreshTokensDisabledMiddleware)
        .forRoutes({ path: `${this.routePrefix}/auth/refresh`, method: RequestMethod.POST });
    }
  }
}
