import { Injectable, NotFoundException } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AuthEventPublisher } from '../events/auth-event-publisher';
import { AuthEvent, type SessionEndReason } from '../events/auth-events';
import type { ResolvedAuthOptions } from '../interfaces/auth-module-options.interface';
import type { AuthPrincipal } from '../interfaces/auth-principal.interface';
import { RevokedSessions } from './revoked-sessions';
import { type Liveness, type RevokedSession, SessionRepository } from './session.repository';
import { InjectAuthOptions } from '../decorators/inject-auth-options.decorator';
import { UserStateRepository } from '../users/user-state.repository';

/** A session in `GET /auth/sessions`. */
export interface SessionView {
  id: string;
  device: string | null;
  userAgent: string | null;
  ip: string | null;
  createdAt: string;
  lastUsedAt: string;
  /** When the session ends if it is not used again: the nearer of its two lifetimes. */
  expiresAt: string;
  /** True for the session of the access token that asked. */
  current: boolean;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Lists and ends sessions. Every way a session ends passes through `end` or `endAllForUser`. */
@Injectable()
export class SessionsService {
  constructor(
    @InjectAuthOptions() private readonly options: ResolvedAuthOptions,
    private readonly sessions: SessionRepository,
    private readonly revokedSessions: RevokedSessions,
    private readonly events: AuthEventPublisher,
    private readonly userState: UserStateRepository,
    private readonly dataSource: DataSource,
  ) {}

  async listActive(principal: AuthPrincipal): Promise<SessionView[]> {
    const idleMs = this.options.refreshIdleTtl * 1000;
    const sessions = await this.sessions.findActiveForUser(principal.id, this.liveness());
    return sessions.map((session) => ({
      id: session.id,
      device: session.device,
      userAgent: session.userAgent,
      ip: session.ip,
      createdAt: session.createdAt.toISOString(),
      lastUsedAt: session.lastUsedAt.toISOString(),
      expiresAt: new Date(
        Math.min(session.expiresAt.getTime(), session.lastUsedAt.getTime() + idleMs),
      ).toISOString(),
      current: session.id === principal.sessionId,
    }));
  }

  /** Ends one of the caller's own active sessions; 404 for anything else. */
  async endOwn(principal: AuthPrincipal, sessionId: string): Promise<void> {
    const live = this.liveness();
    const owned =
      UUID.test(sessionId) &&
      (await this.sessions.findActiveForUser(principal.id, live)).some((s) => s.id === sessionId);
    if (!owned || !(await this.end(sessionId, 'session_deleted', principal.id))) {
      throw new NotFoundException('No such active session');
    }
  }

  /** Ends a session and stops its access tokens; false when it was not active. */
  async end(sessionId: string, reason: SessionEndReason, userId?: string): Promise<boolean> {
    const revoked = await this.sessions.revoke(sessionId, reason, new Date(), userId);
    if (revoked) this.recordRevoked([revoked], reason);
    return revoked !== null;
  }

  /**
   * Ends every session of a user (but one, if given); the number ended. A login racing it
   * leaves no session behind from before it (see `recordUserChange`).
   */
  endAllForUser(
    userId: string,
    reason: SessionEndReason,
    exceptSessionId?: string,
  ): Promise<number> {
    return this.recordUserChange(userId, { end: { reason, exceptSessionId } });
  }

  /**
   * Records a change to a user (a password change, a disable, a logout-all, new roles) and, in
   * the same transaction, ends their sessions (all, or all but one) or gives them the new roles.
   * Once this returns, no login that read the user before the change has a live session, and no
   * refresh hands out the old roles: both check the user's record in the statement that writes
   * their session (see UserStateRepository). The number of sessions ended.
   */
  async recordUserChange(
    userId: string,
    change: { roles?: string[]; end?: { reason: SessionEndReason; exceptSessionId?: string } },
  ): Promise<number> {
    const { end } = change;
    const revoked = await this.dataSource.transaction(async (manager) => {
      await this.userState.recordChange(manager, userId, change.roles);
      if (!end) return [];
      return this.sessions.revokeAllForUser(
        userId,
        end.reason,
        new Date(),
        end.exceptSessionId,
        manager,
      );
    });
    if (end) this.recordRevoked(revoked, end.reason);
    return revoked.length;
  }

  private recordRevoked(sessions: RevokedSession[], reason: SessionEndReason): void {
    const now = new Date();
    for (const session of sessions) {
      // Other instances hear of it through the revocation feed; this one knows at once.
      this.revokedSessions.add(session.id, now);
      this.events.publish(AuthEvent.SessionRevoked, {
        userId: session.userId,
        sessionId: session.id,
        reason,
      });
    }
  }

  private liveness(): Liveness {
    const now = new Date();
    return { now, idleSince: new Date(now.getTime() - this.options.refreshIdleTtl * 1000) };
  }
}
