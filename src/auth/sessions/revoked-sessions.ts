import { Injectable } from '@nestjs/common';

/**
 * Sessions that ended while access tokens issued for them may still be unexpired. The guard
 * consults it on every request, in memory, so a revoked session's access tokens stop working
 * without a database round trip. Entries leave once no token of theirs can still be valid.
 */
@Injectable()
export class RevokedSessions {
  /** session id -> epoch ms after which no access token of the session is valid anyway */
  private readonly until = new Map<string, number>();

  add(sessionId: string, untilMs: number): void {
    this.until.set(sessionId, Math.max(untilMs, this.until.get(sessionId) ?? 0));
    this.prune(Date.now());
  }

  has(sessionId: string): boolean {
    return this.until.has(sessionId);
  }

  private prune(nowMs: number): void {
    for (const [sessionId, untilMs] of this.until) {
      if (untilMs < nowMs) this.until.delete(sessionId);
    }
  }
}
