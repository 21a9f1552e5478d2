/**
 * nest-token-auth: the public API of the module. What a host app uses is exported here; the
 * key-management helpers are at `nest-token-auth/keys`, the passport strategy at
 * `nest-token-auth/passport`, the adopter's test kit at `nest-token-auth/testing` and the
 * browser SDK at `nest-token-auth/client`. Anything else is internal and may change.
 */

// The module and its options.
export { AuthModule } from './auth.module';
export type { AuthModuleExtras, AuthRouteGroups } from './auth.module-definition';
export type {
  AccessTokenAlgorithm,
  AuthModuleOptions,
  AuthOptionsFactory,
  LoginAttemptOptions,
  PasswordHashingOptions,
  RefreshTokenBinding,
  ResolvedAuthOptions,
} from './interfaces/auth-module-options.interface';
export { AUTH_DEFAULTS, ADMIN_ROLE } from './auth.constants';
export { InjectAuthOptions } from './decorators/inject-auth-options.decorator';

// Protecting routes.
export { Public } from './decorators/public.decorator';
export { Roles } from './decorators/roles.decorator';
export { CurrentUser } from './decorators/current-user.decorator';
export { JwtAuthGuard } from './guards/jwt-auth.guard';
export { RolesGuard } from './guards/roles.guard';
export type {
  AccessTokenClaims,
  AuthenticatedRequest,
  AuthPrincipal,
} from './interfaces/auth-principal.interface';

// The host's users.
export {
  AuthUserStore,
  toPublicUser,
  type AuthUserChanges,
  type AuthUserRecord,
  type NewAuthUser,
  type PublicUser,
} from './users/auth-user-store';
export { PasswordHasher } from './passwords/password-hasher.service';

// Services a host may call.
export { AuthService, type ClientContext } from './auth.service';
export { SessionsService, type SessionView } from './sessions/sessions.service';
export { AccessTokenVerifier } from './tokens/access-token.verifier';
export type { TokenResponse } from './tokens/token-response';

// Storage: entities and migrations for the host's TypeORM connection; failed-login counters.
export { AUTH_ENTITIES } from './auth.entities';
export { AUTH_MIGRATIONS } from './migrations';
export { Session } from './sessions/session.entity';
export { RefreshToken } from './refresh-tokens/refresh-token.entity';
export { SigningKey } from './keys/signing-key.entity';
export { UserState } from './users/user-state.entity';
export { AuthSecret } from './refresh-tokens/auth-secret.entity';
export {
  LoginAttemptStore,
  MemoryLoginAttemptStore,
  type LoginAttemptState,
} from './login-attempts/login-attempt-store';

// Events and errors.
export {
  AuthEvent,
  type AuthEventName,
  type AuthEventPayloads,
  type LoginFailureReason,
  type SessionEndReason,
  type TokenReuseKind,
  type TokenReuseReason,
} from './events/auth-events';
export { InvalidAccessTokenError } from './tokens/access-token.verifier';
export { LoginLockedException } from './login-attempts/login-locked.exception';

// Validation the module applies to its own routes, for hosts that want the same for theirs.
export { AuthValidationPipe, MAX_BODY_DEPTH } from './dto/auth-validation.pipe';
