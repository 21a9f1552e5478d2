import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { DataSource } from 'typeorm';

/** The session state a refresh needs, as one row. */
export interface SessionState {
  sessionId: string;
  userId: string;
  expiresAt: Date;
  lastUsedAt: Date;
}

export interface NewSession {
  userId: string;
  device: string | null;
  /** SHA-256 of the login's `device_id`, or null. */
  deviceIdHash: Buffer | null;
  userAgent: string | null;
  ip: string | null;
  expiresAt: Date;
}

/** A presented token whose rotation did not happen, and why. */
export interface PresentedToken extends SessionState {
  rotatedAt: Date | null;
  revokedAt: Date | null;
  /** The session's device binding: SHA-256 of its login's `device_id`, or null. */
  deviceIdHash: Uint8Array | null;
}

/**
 * Refresh tokens and the session rows they move. Every write is a single SQL statement, so a
 * crash never leaves half a rotation behind and concurrent refreshes are decided by row locks.
 *
 * These statements run on every login and refresh, so each is a named prepared statement sent
 * straight to the driver's pool: PostgreSQL parses and plans it once per connection (planning
 * the rotation CTE cost about as much as running it) and TypeORM's per-query runner is skipped.
 */
@Injectable()
export class RefreshTokenRepository {
  constructor(private readonly dataSource: DataSource) {}

  private async prepared<T>(name: string, text: string, values: unknown[]): Promise<T[]> {
    // TypeORM's PostgreSQL driver keeps its node-postgres pool (PGlite's adapter included) here.
    const pool = (this.dataSource.driver as unknown as { master: Pool }).master;
    return (await pool.query<T & object>({ name: `auth_${name}`, text, values })).rows;
  }

  /**
   * Creates a session and, given its hash, its first refresh token; without one (access-token-only
   * mode) the session alone.
   */
  async startSession(session: NewSession, now: Date, tokenHash?: Buffer): Promise<SessionState> {
    const sessionId = randomUUID();
    const values = [
      sessionId,
      session.userId,
      session.device,
      session.userAgent,
      session.ip,
      now,
      session.expiresAt,
      session.deviceIdHash,
    ];
    const insertSession = `INSERT INTO auth_sessions
         (id, user_id, device, user_agent, ip, created_at, last_used_at, expires_at, device_id_hash)
         VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $8)`;
    if (tokenHash) {
      await this.prepared(
        'start_session',
        `WITH new_session AS (${insertSession} RETURNING id)
         INSERT INTO auth_refresh_tokens (id, session_id, token_hash, created_at)
         SELECT $9, id, $10, $6 FROM new_session`,
        [...values, randomUUID(), tokenHash],
      );
    } else {
      await this.prepared('start_session_without_token', insertSession, values);
    }
    return { sessionId, userId: session.userId, expiresAt: session.expiresAt, lastUsedAt: now };
  }

  /**
   * Compare-and-swap rotation: marks the presented token rotated, stores its successor and
   * moves the session's `last_used_at`, but only if the token was not rotated yet and its
   * session is alive. Of concurrent callers with the same token exactly one gets a row: the
   * others wait on the row lock, re-check `rotated_at IS NULL` and find it false.
   */
  async rotate(
    presentedHash: Buffer,
    nextHash: Buffer,
    now: Date,
    idleSince: Date,
  ): Promise<SessionState | null> {
    const rows = await this.prepared<SessionStateRow>(
      'rotate',
      `WITH rotated AS (
         UPDATE auth_refresh_tokens t SET rotated_at = $3
         FROM auth_sessions s
         WHERE t.token_hash = $1 AND t.rotated_at IS NULL
           AND s.id = t.session_id AND s.revoked_at IS NULL
           AND s.expires_at > $3 AND s.last_used_at > $4
         RETURNING t.session_id
       ), touched AS (
         UPDATE auth_sessions s SET last_used_at = $3
         FROM rotated r WHERE s.id = r.session_id
         RETURNING s.id, s.user_id, s.expires_at, s.last_used_at
       ), issued AS (
         INSERT INTO auth_refresh_tokens (id, session_id, token_hash, created_at)
         SELECT $5, id, $2, $3 FROM touched
       )
       SELECT id AS session_id, user_id, expires_at, last_used_at FROM touched`,
      [presentedHash, nextHash, now, idleSince, randomUUID()],
    );
    return rows.length ? toSessionState(rows[0]) : null;
  }

  /**
   * Adds a token to a live session without rotating anything: the answer to a rotated token
   * presented again within the grace window.
   */
  async issueInSession(
    sessionId: string,
    nextHash: Buffer,
    now: Date,
    idleSince: Date,
  ): Promise<SessionState | null> {
    const rows = await this.prepared<SessionStateRow>(
      'issue_in_session',
      `WITH touched AS (
         UPDATE auth_sessions s SET last_used_at = $3
         WHERE s.id = $1 AND s.revoked_at IS NULL AND s.expires_at > $3 AND s.last_used_at > $4
         RETURNING s.id, s.user_id, s.expires_at, s.last_used_at
       ), issued AS (
         INSERT INTO auth_refresh_tokens (id, session_id, token_hash, created_at)
         SELECT $5, id, $2, $3 FROM touched
       )
       SELECT id AS session_id, user_id, expires_at, last_used_at FROM touched`,
      [sessionId, nextHash, now, idleSince, randomUUID()],
    );
    return rows.length ? toSessionState(rows[0]) : null;
  }

  /** The token with this hash and the state of its session, or null for an unknown token. */
  async findPresented(tokenHash: Buffer): Promise<PresentedToken | null> {
    const rows = await this.prepared<
      SessionStateRow & {
        rotated_at: Date | null;
        revoked_at: Date | null;
        device_id_hash: Uint8Array | null;
      }
    >(
      'find_presented',
      `SELECT s.id AS session_id, s.user_id, s.expires_at, s.last_used_at, s.revoked_at,
         s.device_id_hash, t.rotated_at
       FROM auth_refresh_tokens t JOIN auth_sessions s ON s.id = t.session_id
       WHERE t.token_hash = $1`,
      [tokenHash],
    );
    if (!rows.length) return null;
    const row = rows[0];
    return {
      ...toSessionState(row),
      rotatedAt: row.rotated_at,
      revokedAt: row.revoked_at,
      deviceIdHash: row.device_id_hash,
    };
  }
}

interface SessionStateRow {
  session_id: string;
  user_id: string;
  expires_at: Date;
  last_used_at: Date;
}

function toSessionState(row: SessionStateRow): SessionState {
  return {
    sessionId: row.session_id,
    userId: row.user_id,
    expiresAt: new Date(row.expires_at),
    lastUsedAt: new Date(row.last_used_at),
  };
}
