import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { REVOCATION_CHANNEL } from '../auth.constants';
import type { SessionEndReason } from '../events/auth-events';

/** A session as its owner sees it in the session list. */
export interface ActiveSession {
  id: string;
  device: string | null;
  userAgent: string | null;
  ip: string | null;
  createdAt: Date;
  lastUsedAt: Date;
  expiresAt: Date;
}

export interface RevokedSession {
  id: string;
  userId: string;
}

/** When a session counts as alive: not revoked, before its absolute end, used recently enough. */
export interface Liveness {
  now: Date;
  idleSince: Date;
}

/**
 * Session rows. Every revocation is one statement that also sends `pg_notify` on the revocation
 * channel, delivered at commit: every instance hears of every ended session, whichever path
 * ended it, and no revocation can commit without its notification.
 */
@Injectable()
export class SessionRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Ends one session; null when it was not active. `userId` restricts it to that owner. */
  async revoke(
    sessionId: string,
    reason: SessionEndReason,
    now: Date,
    userId?: string,
  ): Promise<RevokedSession | null> {
    const rows = await this.revokeWhere(
      `id = $3 AND ($4::text IS NULL OR user_id = $4)`,
      [sessionId, userId ?? null],
      reason,
      now,
    );
    return rows[0] ?? null;
  }

  /** Ends every session of a user, except one if given; within `manager`'s transaction if given. */
  revokeAllForUser(
    userId: string,
    reason: SessionEndReason,
    now: Date,
    exceptSessionId?: string,
    manager?: EntityManager,
  ): Promise<RevokedSession[]> {
    return this.revokeWhere(
      `user_id = $3 AND ($4::uuid IS NULL OR id <> $4)`,
      [userId, exceptSessionId ?? null],
      reason,
      now,
      manager,
    );
  }

  /** The user's sessions that are alive, most recently used first. */
  async findActiveForUser(userId: string, live: Liveness): Promise<ActiveSession[]> {
    const rows: SessionRow[] = await this.dataSource.query(
      `SELECT id, device, user_agent, ip, created_at, last_used_at, expires_at
       FROM auth_sessions
       WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 AND last_used_at > $3
       ORDER BY last_used_at DESC`,
      [userId, live.now, live.idleSince],
    );
    return rows.map((row) => ({
      id: row.id,
      device: row.device,
      userAgent: row.user_agent,
      ip: row.ip,
      createdAt: new Date(row.created_at),
      lastUsedAt: new Date(row.last_used_at),
      expiresAt: new Date(row.expires_at),
    }));
  }

  /** Sessions revoked after `since`, for the in-memory revocation set. */
  async findRevokedSince(since: Date): Promise<{ id: string; revokedAt: Date }[]> {
    const rows: { id: string; revoked_at: Date }[] = await this.dataSource.query(
      'SELECT id, revoked_at FROM auth_sessions WHERE revoked_at > $1',
      [since],
    );
    return rows.map((row) => ({ id: row.id, revokedAt: new Date(row.revoked_at) }));
  }

  /**
   * Deletes up to `batchSize` sessions (and, by cascade, tokens of earlier releases) that can
   * no longer matter: ended (revoked, past their absolute end, or idle too long) before
   * `endedBefore`. A live session's row holds its chain, which reuse detection needs.
   */
  async deleteEnded(endedBefore: Date, idleBefore: Date, batchSize: number): Promise<number> {
    // In batches: each statement stays short, whatever the backlog.
    const rows: unknown[] = await this.dataSource.query(
      `WITH deleted AS (
         DELETE FROM auth_sessions WHERE id IN (
           SELECT id FROM auth_sessions
           WHERE revoked_at < $1 OR expires_at < $1 OR last_used_at < $2
           LIMIT $3
           -- Rows a revocation or role change holds are left for the next run: never a deadlock.
           FOR UPDATE SKIP LOCKED
         )
         RETURNING id
       )
       SELECT id FROM deleted`,
      [endedBefore, idleBefore, batchSize],
    );
    return rows.length;
  }

  private async revokeWhere(
    condition: string,
    params: unknown[],
    reason: SessionEndReason,
    now: Date,
    manager: EntityManager = this.dataSource.manager,
  ): Promise<RevokedSession[]> {
    const rows: { id: string; user_id: string }[] = await manager.query(
      `WITH revoked AS (
         UPDATE auth_sessions SET revoked_at = $1, revoked_reason = $2
         WHERE revoked_at IS NULL AND ${condition}
         RETURNING id, user_id
       )
       SELECT id, user_id, pg_notify('${REVOCATION_CHANNEL}', id::text) FROM revoked`,
      [now, reason, ...params],
    );
    return rows.map((row) => ({ id: row.id, userId: row.user_id }));
  }
}

interface SessionRow {
  id: string;
  device: string | null;
  user_agent: string | null;
  ip: string | null;
  created_at: Date;
  last_used_at: Date;
  expires_at: Date;
}
