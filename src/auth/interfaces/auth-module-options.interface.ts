import type { LoginAttemptStore } from '../login-attempts/login-attempt-store';

/** Signing algorithms the access-token service supports. */
export type AccessTokenAlgorithm = 'ES256' | 'RS256' | 'HS256';

/**
 * What a refresh must show besides the refresh token: nothing (`'none'`), or the `device_id`
 * its session's login carried (`'device'`).
 */
export type RefreshTokenBinding = 'none' | 'device';

/** argon2id cost parameters. */
export interface PasswordHashingOptions {
  /**
   * Memory cost in KiB.
   * @default 19456 (OWASP's recommendation for argon2id)
   */
  memoryCost?: number;
  /**
   * Iterations.
   * @default 2
   */
  timeCost?: number;
  /**
   * Degree of parallelism.
   * @default 1
   */
  parallelism?: number;
}

/** Per-account limit on failed logins. */
export interface LoginAttemptOptions {
  /**
   * Failed logins for one email within the window before the account answers 429.
   * @default 5
   */
  maxFailures?: number;
  /**
   * Length of the window, seconds, from the first failure.
   * @default 900
   */
  windowSeconds?: number;
}

/** Options of `AuthModule.forRoot` / `AuthModule.forRootAsync`. */
export interface AuthModuleOptions {
  /** `iss` claim of access tokens, usually the service's public URL. */
  issuer: string;
  /**
   * `aud` claim of access tokens.
   * @default 'api'
   */
  audience?: string;
  /**
   * Access-token lifetime in seconds.
   * @default 900
   */
  accessTokenTtl?: number;
  /**
   * Absolute session lifetime in seconds, fixed at login and never extended by rotation.
   * @default 2592000 (30 days)
   */
  refreshTokenTtl?: number;
  /**
   * Inactivity lifetime in seconds: a session without a refresh for this long ends.
   * @default 1209600 (14 days)
   */
  refreshIdleTtl?: number;
  /**
   * Seconds a rotated refresh token may still be presented (concurrent tabs).
   * Presented later, it revokes its whole session. 0 disables the grace window.
   * @default 10
   */
  refreshReuseGrace?: number;
  /**
   * Whether logins issue refresh tokens. With `false` (access-token-only mode) a login returns an
   * access token alone, `POST /auth/refresh` answers 404 and the OAuth `refresh_token` grant is
   * unsupported; a session then lasts as long as its access token (`accessTokenTtl`, capped by
   * `refreshTokenTtl` and `refreshIdleTtl`), and revoking it still stops that token at once.
   * @default true
   */
  refreshTokens?: boolean;
  /**
   * With `'device'`, a session whose login carried a `device_id` is refreshed only with the same
   * one; a refresh with another or none answers 401 and ends the session (a stolen token). With
   * `'none'` the device id is stored (as a hash) but not checked. Needs `refreshTokens`.
   * @default 'none'
   */
  refreshBinding?: RefreshTokenBinding;
  /**
   * Seconds of leeway when checking `exp` and `nbf`.
   * @default 5
   */
  clockTolerance?: number;
  /**
   * Signing algorithm of access tokens.
   * @default 'ES256'
   */
  algorithm?: AccessTokenAlgorithm;
  /** HS256 secret, at least 32 bytes. Required when `algorithm` is `HS256`. */
  secret?: string;
  /**
   * PEM private key (PKCS#8 or SEC1/PKCS#1) for ES256 / RS256. When unset, a key is
   * generated once and persisted in the database.
   */
  privateKey?: string;
  /**
   * Key (at least 32 bytes) that authenticates refresh tokens (an HMAC tag, so that a token of
   * an earlier generation is recognised as reuse and a forged one is not) and salts the sealed
   * successor of the grace window. Keep it outside the database (an environment secret): then
   * not even a database dump together with an old token yields or forges anything. A list
   * rotates keys: the first issues, every one verifies. When unset, a key is generated once and
   * kept in the database; setting the option later keeps that one verifying, so no session ends.
   */
  refreshTokenKey?: string | string[];
  /**
   * Read the user from the `AuthUserStore` on every refresh (a second round trip): a user
   * disabled, deleted or given other roles in your own store is seen at the session's next
   * refresh. Set `false` when every change to users goes through the module (its routes, or
   * `AuthService.syncUser` after your own changes): a refresh is then one round trip, with the
   * roles kept on the session.
   * @default true
   */
  readUserOnRefresh?: boolean;
  /** argon2id parameters. */
  passwordHashing?: PasswordHashingOptions;
  /**
   * Whether `POST /auth/register` is open.
   * @default true
   */
  registrationOpen?: boolean;
  /**
   * `Secure` flag of the refresh-token cookie. Turn off only for plain-HTTP development.
   * @default true
   */
  cookieSecure?: boolean;
  /**
   * `Path` of the refresh-token cookie. Set it when the app serves the module's routes under a
   * global prefix (`app.setGlobalPrefix('api')` needs `'/api/auth'`).
   * @default '/auth', behind the module's `routePrefix`
   */
  cookiePath?: string;
  /** Per-account failed-login limit. */
  loginAttempts?: LoginAttemptOptions;
  /**
   * Where failed logins are counted.
   * @default in process memory (use a shared store with several instances)
   */
  loginAttemptStore?: LoginAttemptStore;
  /** When set, this admin user exists after start (created with role `admin` if missing). */
  bootstrapAdmin?: { email: string; password: string };
}

/** The options that have no default: they stay optional once defaults are applied. */
type OptionsWithoutDefault =
  | 'secret'
  | 'privateKey'
  | 'bootstrapAdmin'
  | 'loginAttemptStore'
  | 'cookiePath'
  | 'refreshTokenKey';

/** Options after defaults are applied. */
export type ResolvedAuthOptions = Required<Omit<AuthModuleOptions, OptionsWithoutDefault>> &
  Pick<AuthModuleOptions, OptionsWithoutDefault> & {
    passwordHashing: Required<PasswordHashingOptions>;
    loginAttempts: Required<LoginAttemptOptions>;
  };

/**
 * A class that supplies the options, for `AuthModule.forRootAsync({ useClass })`.
 * @publicApi
 */
export interface AuthOptionsFactory {
  createAuthOptions(): AuthModuleOptions | Promise<AuthModuleOptions>;
}
