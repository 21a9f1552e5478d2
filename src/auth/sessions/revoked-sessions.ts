import { Injectable } from '@nestjs/common';
import type { ResolvedAuthOptions } from '../interfaces/auth-module-options.interface';
import { SessionRepository } from './session.repository';
import { InjectAuthOptions } from '../decorators/inject-auth-options.decorator';

/**
 * Sessions that ended while access tokens issued for them may still be unexpired. The guard
 * consults it on every request, in memory, so a revoked session's access tokens stop working
 * without a database round trip. It is bounded: an entry leaves once every access token of its
 * session has expired (access-token lifetime plus clock tolerance after the revocation).
 */
@Injectable()
export class RevokedSessions {
  /** session id -> epoch ms after which no access token of the session is valid anyway */
  private readonly until = new Map<string, number>();
  private lastPruneMs = 0;

  constructor(
    @InjectAuthOptions() private readonly options: ResolvedAuthOptions,
    private readonly sessions: SessionRepository,
  ) {}

  /** Loads every session revoked within the horizon (at start, and after a lost feed). */
  async reload(): Promise<void> {
    const since = new Date(Date.now() - this.horizonMs());
    for (const session of await this.sessions.findRevokedSince(since)) {
      this.add(session.id, session.revokedAt);
    }
  }

  /** Records that a session ended at `revokedAt`. */
  add(sessionId: string, revokedAt: Date): void {
    const untilMs = revokedAt.getTime() + this.horizonMs();
    this.until.set(sessionId, Math.max(untilMs, this.until.get(sessionId) ?? 0));
    this.prune(Date.now());
  }

  has(sessionId: string): boolean {
    return this.until.has(sessionId);
  }

  get size(): number {
    return this.until.size;
  }

  /** How long after its revocation a session can still have an unexpired access token. */
  private horizonMs(): number {
    return (this.options.accessTokenTtl + this.options.clockTolerance) * 1000;
  }

  /** Drops entries past their horizon; at most once a second, so `add` stays O(1) amortised. */
  private prune(nowMs: number): void {
    if (nowMs - this.lastPruneMs < 1000) return;
    this.lastPruneMs = nowMs;
    for (const [sessionId, untilMs] of this.until) {
      if (untilMs < nowMs) this.until.delete(sessionId);
    }
  }
}
