export { AuthModule } from './auth.module';
export { AUTH_MODULE_OPTIONS, type AuthModuleExtras } from './auth.module-definition';
export {
  ADMIN_ROLE,
  AUTH_OPTIONS,
  AUTH_DEFAULTS,
  KEYS_CHANNEL,
  REVOCATION_CHANNEL,
} from './auth.constants';
export { AuthService } from './auth.service';
export {
  LoginAttemptStore,
  MemoryLoginAttemptStore,
  type LoginAttemptState,
} from './login-attempts/login-attempt-store';
export { LoginLockedException } from './login-attempts/login-attempts.service';
export { SessionsService, type SessionView } from './sessions/sessions.service';
export {
  AuthEvent,
  type AuthEventName,
  type AuthEventPayloads,
  type LoginFailureReason,
  type SessionEndReason,
  type TokenReuseReason,
} from './events/auth-events';
export { Public } from './decorators/public.decorator';
export { AuthValidationPipe, MAX_BODY_DEPTH } from './dto/auth-validation.pipe';
export { Roles } from './decorators/roles.decorator';
export { CurrentUser } from './decorators/current-user.decorator';
export { JwtAuthGuard } from './guards/jwt-auth.guard';
export { RolesGuard } from './guards/roles.guard';
export { JwtStrategy } from './strategies/jwt.strategy';
export { AccessTokenVerifier, InvalidAccessTokenError } from './tokens/access-token.verifier';
export { PasswordHasher } from './passwords/password-hasher.service';
export { Session } from './sessions/session.entity';
export { RefreshToken } from './refresh-tokens/refresh-token.entity';
export { SigningKey } from './keys/signing-key.entity';
export { importPrivateKey } from './keys/key-material';
export { SigningKeysService } from './keys/signing-keys.service';
export { SigningKeyRepository } from './keys/signing-key.repository';
export {
  revokeSigningKey,
  rotateSigningKey,
  type RevocationResult,
  type RotationResult,
} from './keys/key-rotation';
export { AUTH_MIGRATIONS } from './migrations';
export {
  AuthUserStore,
  toPublicUser,
  type AuthUserChanges,
  type AuthUserRecord,
  type NewAuthUser,
  type PublicUser,
} from './users/auth-user-store';
export type {
  AccessTokenAlgorithm,
  AuthModuleOptions,
  LoginAttemptOptions,
  PasswordHashingOptions,
  RefreshTokenBinding,
} from './interfaces/auth-module-options.interface';
export type { AuthPrincipal, AccessTokenClaims } from './interfaces/auth-principal.interface';
export type { TokenResponse } from './tokens/token-response';

/** Entities the host's TypeORM connection must know (or use `autoLoadEntities`). */
export { AUTH_ENTITIES } from './auth.entities';
