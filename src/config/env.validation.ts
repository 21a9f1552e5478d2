import { plainToInstance, Transform } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUrl,
  Max,
  Min,
  Matches,
  MinLength,
  validateSync,
} from 'class-validator';

const toInt = ({ value }: { value: unknown }) =>
  typeof value === 'string' && /^\s*-?\d+\s*$/.test(value) ? Number(value) : value;

/** Every environment variable the service reads (CONTRACT.md, "Configuration"). */
export class EnvironmentVariables {
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT?: number;

  @IsOptional()
  @IsString()
  HOST?: string;

  @IsOptional()
  @IsUrl({ protocols: ['postgres', 'postgresql'], require_tld: false, require_protocol: true })
  DATABASE_URL?: string;

  @IsOptional()
  @IsString()
  AUTH_DATA_DIR?: string;

  @IsOptional()
  @IsUrl({ protocols: ['redis', 'rediss'], require_tld: false, require_protocol: true })
  REDIS_URL?: string;

  @IsOptional()
  @IsUrl({ require_tld: false, require_protocol: true })
  AUTH_ISSUER?: string;

  @IsOptional()
  @IsString()
  @MinLength(1)
  AUTH_AUDIENCE?: string;

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1)
  AUTH_ACCESS_TTL?: number;

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1)
  AUTH_REFRESH_TTL?: number;

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1)
  AUTH_REFRESH_IDLE_TTL?: number;

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(0)
  AUTH_REFRESH_REUSE_GRACE?: number;

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(300)
  AUTH_CLOCK_TOLERANCE?: number;

  /** `off`: access-token-only mode, no refresh token is issued. */
  @IsOptional()
  @IsIn(['on', 'off'])
  AUTH_REFRESH_TOKENS?: 'on' | 'off';

  /** `device`: a session is refreshed only with the `device_id` its login carried. */
  @IsOptional()
  @IsIn(['none', 'device'])
  AUTH_REFRESH_BINDING?: 'none' | 'device';

  @IsOptional()
  @IsIn(['ES256', 'RS256', 'HS256'])
  AUTH_JWT_ALG?: 'ES256' | 'RS256' | 'HS256';

  @IsOptional()
  @IsString()
  AUTH_JWT_SECRET?: string;

  @IsOptional()
  @IsString()
  AUTH_JWT_PRIVATE_KEY?: string;

  @IsOptional()
  @IsString()
  AUTH_REFRESH_TOKEN_KEY?: string;

  @IsOptional()
  @IsString()
  AUTH_ADMIN_EMAIL?: string;

  @IsOptional()
  @IsString()
  @MinLength(8)
  AUTH_ADMIN_PASSWORD?: string;

  @IsOptional()
  @IsIn(['open', 'closed'])
  AUTH_REGISTRATION?: 'open' | 'closed';

  @IsOptional()
  @IsIn(['true', 'false'])
  AUTH_COOKIE_SECURE?: 'true' | 'false';

  /** Comma-separated origins, e.g. `https://app.example.com,https://admin.example.com`. */
  @IsOptional()
  @Matches(/^https?:\/\/[^\s,/]+(,\s*https?:\/\/[^\s,/]+)*$/, {
    message: 'AUTH_CORS_ORIGINS must be comma-separated origins such as https://app.example.com',
  })
  AUTH_CORS_ORIGINS?: string;

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1)
  AUTH_RATE_LIMIT?: number;

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1)
  AUTH_LOGIN_MAX_FAILURES?: number;

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1)
  AUTH_LOGIN_WINDOW?: number;

  @IsOptional()
  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL?: string;
}

/** Thrown for bad configuration; the message names the variable and what it needs. */
export class ConfigurationError extends Error {}

export function validateEnvironment(env: Record<string, string | undefined>): EnvironmentVariables {
  // An empty variable counts as unset.
  const set = Object.fromEntries(Object.entries(env).filter(([, value]) => value));
  const variables = plainToInstance(EnvironmentVariables, set);
  const errors = validateSync(variables);
  if (errors.length > 0) {
    const problems = errors.map(
      (error) => `${error.property}: ${Object.values(error.constraints ?? {}).join('; ')}`,
    );
    throw new ConfigurationError(`Invalid configuration. ${problems.join('. ')}.`);
  }
  if (
    variables.AUTH_JWT_ALG === 'HS256' &&
    Buffer.byteLength(variables.AUTH_JWT_SECRET ?? '') < 32
  ) {
    throw new ConfigurationError(
      'Invalid configuration. AUTH_JWT_SECRET must be set to at least 32 bytes when AUTH_JWT_ALG is HS256.',
    );
  }
  if (
    variables.AUTH_REFRESH_TOKEN_KEY !== undefined &&
    variables.AUTH_REFRESH_TOKEN_KEY.split(',').some((key) => Buffer.byteLength(key.trim()) < 32)
  ) {
    throw new ConfigurationError(
      'Invalid configuration. AUTH_REFRESH_TOKEN_KEY must be one key, or several separated by commas, of at least 32 bytes each (openssl rand -base64 48).',
    );
  }
  if (variables.AUTH_REFRESH_BINDING === 'device' && variables.AUTH_REFRESH_TOKENS === 'off') {
    throw new ConfigurationError(
      'Invalid configuration. AUTH_REFRESH_BINDING=device binds refresh tokens, which AUTH_REFRESH_TOKENS=off turns off; set one of the two back.',
    );
  }
  if (Boolean(variables.AUTH_ADMIN_EMAIL) !== Boolean(variables.AUTH_ADMIN_PASSWORD)) {
    throw new ConfigurationError(
      'Invalid configuration. Set both AUTH_ADMIN_EMAIL and AUTH_ADMIN_PASSWORD, or neither.',
    );
  }
  return variables;
}
