import { Logger } from '@nestjs/common';
import type Redis from 'ioredis';
import { type LoginAttemptState, LoginAttemptStore, MemoryLoginAttemptStore } from '../auth';

const RECORD_FAILURE = `
local failures = redis.call('INCR', KEYS[1])
if failures == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return { failures, redis.call('PTTL', KEYS[1]) }`;

/** Failed-login counters shared by every instance; falls back to this process if Redis fails. */
export class RedisLoginAttemptStore extends LoginAttemptStore {
  private readonly logger = new Logger(RedisLoginAttemptStore.name);
  private readonly fallback = new MemoryLoginAttemptStore();

  constructor(private readonly redis: Redis) {
    super();
  }

  async get(key: string): Promise<LoginAttemptState | null> {
    try {
      const [failures, ttl] = await this.redis.multi().get(key).pttl(key).exec().then(results);
      return failures && Number(failures) > 0 && Number(ttl) > 0
        ? { failures: Number(failures), resetInMs: Number(ttl) }
        : null;
    } catch (error) {
      this.warn(error);
      return this.fallback.get(key);
    }
  }

  async recordFailure(key: string, windowMs: number): Promise<LoginAttemptState> {
    try {
      const [failures, ttl] = (await this.redis.eval(RECORD_FAILURE, 1, key, windowMs)) as [
        number,
        number,
      ];
      return { failures, resetInMs: ttl };
    } catch (error) {
      this.warn(error);
      return this.fallback.recordFailure(key, windowMs);
    }
  }

  async clear(key: string): Promise<void> {
    try {
      await this.redis.del(key);
    } catch (error) {
      this.warn(error);
    }
    await this.fallback.clear(key);
  }

  private warn(error: unknown): void {
    this.logger.warn(`Redis unavailable, counting in process: ${(error as Error).message}`);
  }
}

function results(replies: [Error | null, unknown][] | null): unknown[] {
  if (!replies) throw new Error('transaction aborted');
  return replies.map(([error, value]) => {
    if (error) throw error;
    return value;
  });
}
