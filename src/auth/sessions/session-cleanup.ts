import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { ResolvedAuthOptions } from '../interfaces/auth-module-options.interface';
import { SessionRepository } from './session.repository';
import { InjectAuthOptions } from '../decorators/inject-auth-options.decorator';

const BATCH_SIZE = 5000;
/** At most this many batches a run; the next hourly run continues. */
const MAX_BATCHES = 200;
const RUN_EVERY_MS = 60 * 60 * 1000;

/**
 * Keeps the session table bounded. A session's row (its whole refresh-token chain, and tokens
 * of earlier releases by cascade) goes once it has ended (revoked, past its absolute end, or
 * idle too long) and the access tokens it issued have expired too, so the revocation set can
 * still be reloaded from it. A live session is one row however often it rotated.
 */
@Injectable()
export class SessionCleanup implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(SessionCleanup.name);
  private timer?: NodeJS.Timeout;

  constructor(
    @InjectAuthOptions() private readonly options: ResolvedAuthOptions,
    private readonly sessions: SessionRepository,
  ) {}

  /**
   * Hourly, on a timer of its own: the module does not register `@nestjs/schedule` (a global
   * scheduler) behind the host's back. Unref'd, so it never keeps the process alive.
   */
  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.deleteEndedSessions(), RUN_EVERY_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  async deleteEndedSessions(now = new Date()): Promise<number> {
    const horizonMs = (this.options.accessTokenTtl + this.options.clockTolerance) * 1000;
    const endedBefore = new Date(now.getTime() - horizonMs);
    const idleBefore = new Date(endedBefore.getTime() - this.options.refreshIdleTtl * 1000);
    try {
      let deleted = 0;
      for (let batch = 0; batch < MAX_BATCHES; batch += 1) {
        const count = await this.sessions.deleteEnded(endedBefore, idleBefore, BATCH_SIZE);
        deleted += count;
        if (count < BATCH_SIZE) break;
      }
      if (deleted > 0) this.logger.log(`deleted ${deleted} ended sessions`);
      return deleted;
    } catch (error) {
      // A scheduled job must not crash the process; the next run catches up.
      this.logger.warn(`session cleanup failed: ${(error as Error).message}`);
      return 0;
    }
  }
}
