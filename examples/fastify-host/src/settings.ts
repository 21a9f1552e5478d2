/** The host's configuration, read from the environment once per app. */
export interface HostSettings {
  /** PostgreSQL URL of the host's one database (its accounts and the auth module's tables). */
  databaseUrl: string;
  /** `iss` of the access tokens: the app's public URL. */
  issuer: string;
  /** Seconds a rotated refresh token may still be presented; unset = the module's default. */
  refreshReuseGrace?: number;
  /** `Secure` flag of the refresh cookie; off only for plain-HTTP development. */
  cookieSecure: boolean;
}

export function loadSettings(env: NodeJS.ProcessEnv = process.env): HostSettings {
  const databaseUrl = env.DATABASE_URL;
  if (!databaseUrl) {
    throw new Error('DATABASE_URL is not set: point it at PostgreSQL (postgres://user@host/db).');
  }
  const grace = env.AUTH_REFRESH_REUSE_GRACE;
  if (grace !== undefined && !/^\d+$/.test(grace)) {
    throw new Error(`AUTH_REFRESH_REUSE_GRACE must be a whole number of seconds, not '${grace}'.`);
  }
  return {
    databaseUrl,
    issuer: env.AUTH_ISSUER ?? `http://localhost:${env.PORT ?? 3000}`,
    refreshReuseGrace: grace === undefined ? undefined : Number(grace),
    cookieSecure: env.AUTH_COOKIE_SECURE !== 'false',
  };
}
