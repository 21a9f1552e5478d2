import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AUTH_OPTIONS } from '../auth.constants';
import type { ResolvedAuthOptions } from '../interfaces/auth-module-options.interface';

/**
 * Sessions that ended while access tokens issued for them may still be unexpired. The guard
 * consults it on every request, in memory, so a revoked session's access tokens stop working
 * without a database round trip. Entries leave once no token of theirs can still be valid; at
 * start the set is loaded from the sessions revoked within that horizon.
 */
@Injectable()
export class RevokedSessions implements OnModuleInit {
  /** session id -> epoch ms after which no access token of the session is valid anyway */
  private readonly until = new Map<string, number>();
  private lastPruneMs = 0;

  constructor(
    @Inject(AUTH_OPTIONS) private readonly options: ResolvedAuthOptions,
    private readonly dataSource: DataSource,
  ) {}

  async onModuleInit(): Promise<void> {
    const since = new Date(Date.now() - this.horizonMs());
    const rows: { id: string; revoked_at: Date }[] = await this.dataSource.query(
      'SELECT id, revoked_at FROM auth_sessions WHERE revoked_at > $1',
      [since],
    );
    for (const row of rows) this.add(row.id, new Date(row.revoked_at));
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
