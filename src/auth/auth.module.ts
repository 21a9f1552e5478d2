import {
  Inject,
  type MiddlewareConsumer,
  Module,
  type NestModule,
  RequestMethod,
} from '@nestjs/common';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { PassportModule } from '@nestjs/passport';
import { ScheduleModule } from '@nestjs/schedule';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AUTH_OPTIONS, resolveAuthOptions } from './auth.constants';
import { AdminUsersController } from './admin/admin-users.controller';
import { UserAdministrationService } from './admin/user-administration.service';
import { AuthController } from './auth.controller';
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
import { SessionsController } from './sessions/sessions.controller';
import { SessionsService } from './sessions/sessions.service';
import { AuthEventPublisher } from './events/auth-event-publisher';
import { ChangeFeed } from './feed/change-feed';
import { MetadataController } from './oauth/metadata.controller';
import { OAuthController } from './oauth/oauth.controller';
import { OAuthService } from './oauth/oauth.service';
import { SigningKeyRepository } from './keys/signing-key.repository';
import { JwtStrategy } from './strategies/jwt.strategy';
import { AccessTokenService } from './tokens/access-token.service';
import { AccessTokenVerifier } from './tokens/access-token.verifier';

/**
 * Access tokens, rotating refresh tokens and sessions for a Nest app. The host provides the
 * `AuthUserStore` (through `imports`) and a TypeORM connection whose migrations include
 * `AUTH_MIGRATIONS`.
 */
@Module({
  imports: [
    PassportModule,
    TypeOrmModule.forFeature(AUTH_ENTITIES),
    // Both dedupe: a host that calls forRoot() itself gets the same single instance.
    ScheduleModule.forRoot(),
    EventEmitterModule.forRoot(),
  ],
  controllers: [
    AuthController,
    SessionsController,
    AdminUsersController,
    OAuthController,
    MetadataController,
  ],
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
    RefreshTokenRepository,
    SessionRepository,
    RevokedSessions,
    JwtStrategy,
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
  constructor(@Inject(AUTH_OPTIONS) private readonly options: ResolvedAuthOptions) {
    super();
  }

  configure(consumer: MiddlewareConsumer): void {
    if (!this.options.refreshTokens) {
      consumer
        .apply(RefreshTokensDisabledMiddleware)
        .forRoutes({ path: 'auth/refresh', method: RequestMethod.POST });
    }
  }
}
