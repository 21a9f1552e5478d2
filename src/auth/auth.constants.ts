import type {
  AuthModuleOptions,
  ResolvedAuthOptions,
} from './interfaces/auth-module-options.interface';

/** Injection token of the options with every default applied; use `@InjectAuthOptions()`. */
export const AUTH_OPTIONS = Symbol('AUTH_OPTIONS');

/** Injection token of the normalized `routePrefix` extra (`''` or `'/api'`). */
export const AUTH_ROUTE_PREFIX = Symbol('AUTH_ROUTE_PREFIX');

export const IS_PUBLIC_KEY = 'isPublic';

/** The role `@Roles([ADMIN_ROLE])` routes and the bootstrap admin use. */
export const ADMIN_ROLE = 'admin';

/** Name of the refresh-token cookie (cookie transport); its path is `<routePrefix>/auth`. */
export const REFRESH_COOKIE_NAME = 'refresh_token';

/** Header a browser sends to use the cookie transport; also the CSRF defence. */
export const AUTH_TRANSPORT_HEADER = 'auth-transport';

/** PostgreSQL NOTIFY channel on which every revoked session id is announced. */
export const REVOCATION_CHANNEL = 'nest_token_auth_session_revoked';

/** PostgreSQL NOTIFY channel on which key rotations and retirements are announced. */
export const KEYS_CHANNEL = 'nest_token_auth_keys_changed';

/** `typ` header of access tokens (RFC 9068). */
export const ACCESS_TOKEN_TYPE = 'at+jwt';

/** The default of every option that has one (see `AuthModuleOptions` for each). */
export const AUTH_DEFAULTS = {
  audience: 'api',
  accessTokenTtl: 900,
  refreshTokenTtl: 2_592_000,
  refreshIdleTtl: 1_209_600,
  refreshReuseGrace: 10,
  refreshTokens: true,
  refreshBinding: 'none',
  clockTolerance: 5,
  algorithm: 'ES256',
  registrationOpen: true,
  readUserOnRefresh: true,
  cookieSecure: true,
  passwordHashing: { memoryCost: 19_456, timeCost: 2, parallelism: 1 },
  loginAttempts: { maxFailures: 5, windowSeconds: 900 },
} as const;

export function resolveAuthOptions(options: AuthModuleOptions): ResolvedAuthOptions {
  const resolved: ResolvedAuthOptions = {
    ...AUTH_DEFAULTS,
    ...(stripUndefined(options) as AuthModuleOptions),
    passwordHashing: {
      ...AUTH_DEFAULTS.passwordHashing,
      ...stripUndefined(options.passwordHashing ?? {}),
    },
    loginAttempts: {
      ...AUTH_DEFAULTS.loginAttempts,
      ...stripUndefined(options.loginAttempts ?? {}),
    },
  };
  if (typeof resolved.issuer !== 'string' || resolved.issuer === '') {
    throw new Error(
      "AuthModule: the `issuer` option is required (the `iss` of access tokens, usually the app's public URL).",
    );
  }
  if (resolved.algorithm === 'HS256' && Buffer.byteLength(resolved.secret ?? '') < 32) {
    throw new Error(
      'AuthModule: algorithm HS256 needs a secret of at least 32 bytes; set the `secret` option.',
    );
  }
  const refreshTokenKeys = [resolved.refreshTokenKey ?? []].flat();
  if (refreshTokenKeys.some((key) => typeof key !== 'string' || Buffer.byteLength(key) < 32)) {
    throw new Error(
      'AuthModule: the `refreshTokenKey` option must be at least 32 bytes; generate one with `openssl rand -base64 48`.',
    );
  }
  if (resolved.refreshBinding === 'device' && !resolved.refreshTokens) {
    throw new Error(
      "AuthModule: refreshBinding 'device' binds refresh tokens, and refreshTokens is false; drop one of the two options.",
    );
  }
  return resolved;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
