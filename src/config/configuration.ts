import { resolve } from 'node:path';
import type { AuthModuleOptions } from '../auth';
import { importPrivateKey } from '../auth/keys';
import type { RateLimitConfig } from '../rate-limit/rate-limit.module';
import { ConfigurationError, validateEnvironment } from './env.validation';

export interface AppConfig {
  port: number;
  host: string;
  corsOrigins: string[];
  logLevel: string;
}

export interface DatabaseConfig {
  /** PostgreSQL URL; undefined selects the embedded PGlite database. */
  url?: string;
  /** Where the embedded database lives. */
  dataDir: string;
}

export interface Configuration {
  app: AppConfig;
  rateLimit: RateLimitConfig;
  database: DatabaseConfig;
  auth: AuthModuleOptions;
}

/** Reads and validates the environment; throws a ConfigurationError naming a bad variable. */
export function loadConfiguration(
  env: Record<string, string | undefined> = process.env,
): Configuration {
  const vars = validateEnvironment(env);
  const port = vars.PORT ?? 3000;
  const privateKey = vars.AUTH_JWT_PRIVATE_KEY?.replace(/\\n/g, '\n');
  if (privateKey && vars.AUTH_JWT_ALG !== 'HS256') {
    try {
      importPrivateKey(vars.AUTH_JWT_ALG ?? 'ES256', privateKey);
    } catch (error) {
      throw new ConfigurationError(
        `Invalid configuration. AUTH_JWT_PRIVATE_KEY: ${(error as Error).message}`,
      );
    }
  }
  return {
    app: {
      port,
      host: vars.HOST ?? '127.0.0.1',
      corsOrigins: vars.AUTH_CORS_ORIGINS?.split(',').map((origin) => origin.trim()) ?? [],
      logLevel: vars.LOG_LEVEL ?? 'info',
    },
    rateLimit: { perMinute: vars.AUTH_RATE_LIMIT ?? 100, redisUrl: vars.REDIS_URL },
    database: { url: vars.DATABASE_URL, dataDir: resolve(vars.AUTH_DATA_DIR ?? './.data') },
    auth: {
      issuer: vars.AUTH_ISSUER ?? `http://localhost:${port}`,
      audience: vars.AUTH_AUDIENCE,
      accessTokenTtl: vars.AUTH_ACCESS_TTL,
      refreshTokenTtl: vars.AUTH_REFRESH_TTL,
      refreshIdleTtl: vars.AUTH_REFRESH_IDLE_TTL,
      refreshReuseGrace: vars.AUTH_REFRESH_REUSE_GRACE,
      refreshTokens: vars.AUTH_REFRESH_TOKENS ? vars.AUTH_REFRESH_TOKENS === 'on' : undefined,
      refreshBinding: vars.AUTH_REFRESH_BINDING,
      clockTolerance: vars.AUTH_CLOCK_TOLERANCE,
      algorithm: vars.AUTH_JWT_ALG,
      secret: vars.AUTH_JWT_SECRET,
      // Comma-separated: the first issues, every one verifies (key rotation).
      refreshTokenKey: vars.AUTH_REFRESH_TOKEN_KEY?.split(',').map((key) => key.trim()),
      // The service's users change only through the module (its routes, or syncUser): a
      // refresh is one round trip, with the roles kept on the session.
      readUserOnRefresh: false,
      privateKey,
      registrationOpen: vars.AUTH_REGISTRATION ? vars.AUTH_REGISTRATION === 'open' : undefined,
      cookieSecure: vars.AUTH_COOKIE_SECURE ? vars.AUTH_COOKIE_SECURE === 'true' : undefined,
      loginAttempts: {
        maxFailures: vars.AUTH_LOGIN_MAX_FAILURES,
        windowSeconds: vars.AUTH_LOGIN_WINDOW,
      },
      bootstrapAdmin:
        vars.AUTH_ADMIN_EMAIL && vars.AUTH_ADMIN_PASSWORD
          ? { email: vars.AUTH_ADMIN_EMAIL, password: vars.AUTH_ADMIN_PASSWORD }
          : undefined,
    },
  };
}
