import { type DynamicModule, Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerGuard, ThrottlerModule } from '@nestjs/throttler';
import Redis from 'ioredis';
import { LoginAttemptStore, MemoryLoginAttemptStore } from '../auth';
import { RedisLoginAttemptStore } from './redis-login-attempt-store';
import { RedisThrottlerStorage } from './redis-throttler-storage';

const REDIS = Symbol('REDIS');
const LIMITED_PREFIXES = ['/auth/', '/oauth/'];

export interface RateLimitConfig {
  /** Requests per minute per client IP on /auth/* and /oauth/*. */
  perMinute: number;
  /** Redis for counters shared by all instances; unset = in process. */
  redisUrl?: string;
}

/**
 * The host's rate limits: `@nestjs/throttler` per client IP on the auth routes (429 with
 * `Retry-After`), and the store of the auth module's per-account failed-login counters; both in
 * Redis when configured, so every instance counts together.
 */
@Module({})
export class RateLimitModule implements OnApplicationShutdown {
  constructor(@Inject(REDIS) private readonly redis: Redis | null) {}

  static forRoot(config: RateLimitConfig): DynamicModule {
    const redis = config.redisUrl
      ? new Redis(config.redisUrl, { maxRetriesPerRequest: 1, enableOfflineQueue: false })
      : null;
    return {
      module: RateLimitModule,
      imports: [
        ThrottlerModule.forRoot({
          throttlers: [{ name: 'default', ttl: 60_000, limit: config.perMinute }],
          storage: redis ? new RedisThrottlerStorage(redis) : undefined,
          // One budget per client across all the auth routes, not one per route.
          generateKey: (_context, tracker, throttlerName) => `${throttlerName}:${tracker}`,
          skipIf: (context) => {
            const { url } = context.switchToHttp().getRequest<{ url: string }>();
            return !LIMITED_PREFIXES.some((prefix) => url.startsWith(prefix));
          },
        }),
      ],
      providers: [
        { provide: REDIS, useValue: redis },
        {
          provide: LoginAttemptStore,
          useValue: redis ? new RedisLoginAttemptStore(redis) : new MemoryLoginAttemptStore(),
        },
        { provide: APP_GUARD, useClass: ThrottlerGuard },
      ],
      exports: [LoginAttemptStore],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.redis?.quit().catch(() => undefined);
  }
}
