import { Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
import { DataSource } from 'typeorm';

/** The session state a refresh needs, as one row. */
export interface SessionState {
  sessionId: string;
  userId: string;
  expiresAt: Date;
  lastUsedAt: Date;
  /**
   * Roles its access tokens carry, kept on the session so that a role change (which updates
   * every live session of the user) and a rotation are ordered by the session's row lock; null
   * for sessions from before roles were kept here.
   */
  roles: string[] | null;
}

export interface NewSession {
  id: string;
  userId: string;
  device: string | null;
  /** SHA-256 of the login's `device_id`, or null. */
  deviceIdHash: Buffer | null;
  userAgent: string | null;
  ip: string | null;
  expiresAt: Date;
  /** Hash of the first refresh token (generation 1); none in access-token-only mode. */
  tokenHash?: Buffer;
  /** The user's roles as the login read them. */
  roles: string[];
  /**
   * Version of the user's record, read before the login read the user: the session starts only
   * if no password change, disable, logout-all or role change has been recorded since.
   */
  userVersion: number;
}

/** A session's chain, read when a rotation did not happen, to tell why. */
export interface SessionChain extends SessionState {
  revokedAt: Date | null;
  generation: number | null;
  tokenHash: Uint8Array | null;
  previousTokenHash: Uint8Array | null;
  rotatedAt: Date | null;
  successorBox: Uint8Array | null;
  /** The session's device binding: SHA-256 of its login's `device_id`, or null. */
  deviceIdHash: Uint8Array | null;
}

/** A token of the scheme before generations, and its session. */
export interface LegacyToken extends SessionState {
  rotatedAt: Date | null;
  revokedAt: Date | null;
  generation: number | null;
  deviceIdHash: Uint8Array | null;
}

/**
 * Sessions and their refresh-token chains. A session row holds its whole chain: the current
 * generation, the hashes of the current and the previous token, when the previous one was
 * rotated, and the current one sealed under the previous one. Rotation is one compare-and-swap
 * `UPDATE` of that row, so storage does not grow with rotations, a crash never leaves half a
 * rotation behind, and concurrent refreshes are decided by the row lock.
 *
 * These statements run on every login and refresh, so each is a named prepared statement sent
 * straight to the driver's pool: PostgreSQL parses and plans it once per connection and
 * TypeORM's per-query runner is skipped.
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
   * Starts a session with its first token (generation 1), unless a change to the user was
   * recorded since `userVersion` was read: null then (the caller reads the user again). The upsert of the user's
   * record takes its row lock, so a change in flight (which holds that lock while it ends the
   * user's sessions) is either seen here or sees this session.
   */
  async startSession(session: NewSession, now: Date): Promise<SessionState | null> {
    const rows = await this.prepared<SessionStateRow>(
      'start_session',
      `WITH u AS (
         INSERT INTO auth_user_state (user_id) VALUES ($2)
         ON CONFLICT (user_id) DO UPDATE SET version = auth_user_state.version
         RETURNING version
       )
       INSERT INTO auth_sessions (id, user_id, device, user_agent, ip, created_at, last_used_at,
         expires_at, device_id_hash, generation, token_hash, roles)
       SELECT $1, $2, $3, $4, $5, $6, $6, $7, $8, $9, $10, $11::text[] FROM u WHERE u.version = $12
       RETURNING id AS session_id, user_id, expires_at, last_used_at, roles`,
      [
        session.id,
        session.userId,
        session.device,
        session.userAgent,
        session.ip,
        now,
        session.expiresAt,
        session.deviceIdHash,
        session.tokenHash ? 1 : null,
        session.tokenHash ?? null,
        session.roles,
        session.userVersion,
      ],
    );
    return rows.length ? toSessionState(rows[0]) : null;
  }

  /**
   * Compare-and-swap rotation of generation `generation` of the session, presented with hash
   * `presentedHash`: the row moves to the next generation (the presented hash becomes the
   * previous one, the successor is sealed under the presented token) only if the session is
   * still at that generation with that token and alive. Of concurrent callers with the same
   * token exactly one gets a row: the others wait on the row lock and re-check.
   */
  async rotate(
    sessionId: string,
    generation: number,
    presentedHash: Buffer,
    next: { hash: Buffer; box: Buffer },
    now: Date,
    idleSince: Date,
  ): Promise<SessionState | null> {
    const rows = await this.prepared<SessionStateRow>(
      'rotate',
      `UPDATE auth_sessions s SET generation = s.generation + 1,
           previous_token_hash = s.token_hash, token_hash = $4, successor_box = $5,
           rotated_at = $6, last_used_at = $6
         WHERE s.id = $1 AND s.generation = $2 AND s.token_hash = $3
           AND s.revoked_at IS NULL AND s.expires_at > $6 AND s.last_used_at > $7
       RETURNING s.id AS session_id, s.user_id, s.expires_at, s.last_used_at, s.roles`,
      [sessionId, generation, presentedHash, next.hash, next.box, now, idleSince],
    );
    return rows.length ? toSessionState(rows[0]) : null;
  }

  /** The session's chain and state, or null for an unknown (or deleted) session. */
  async findChain(sessionId: string): Promise<SessionChain | null> {
    const rows = await this.prepared<SessionChainRow>(
      'find_chain',
      `SELECT s.id AS session_id, s.user_id, s.expires_at, s.last_used_at, s.revoked_at,
         s.generation, s.token_hash, s.previous_token_hash, s.rotated_at, s.successor_box,
         s.device_id_hash, s.roles
       FROM auth_sessions s WHERE s.id = $1`,
      [sessionId],
    );
    if (!rows.length) return null;
    const row = rows[0];
    return {
      ...toSessionState(row),
      revokedAt: row.revoked_at,
      generation: row.generation,
      tokenHash: row.token_hash,
      previousTokenHash: row.previous_token_hash,
      rotatedAt: row.rotated_at,
      successorBox: row.successor_box,
      deviceIdHash: row.device_id_hash,
    };
  }

  /**
   * Records the roles read from the user store on a session that has none yet (one from before
   * roles were kept on sessions), unless a role change got there first. True when it wrote.
   */
  async fillRoles(sessionId: string, roles: string[]): Promise<boolean> {
    const rows = await this.prepared(
      'fill_session_roles',
      'UPDATE auth_sessions SET roles = $2 WHERE id = $1 AND roles IS NULL RETURNING id',
      [sessionId, roles],
    );
    return rows.length > 0;
  }

  /** Moves a session's last use (a successor handed out again within the grace window). */
  async touch(sessionId: string, now: Date): Promise<void> {
    await this.prepared(
      'touch_session',
      'UPDATE auth_sessions SET last_used_at = GREATEST(last_used_at, $2) WHERE id = $1',
      [sessionId, now],
    );
  }

  /** A token of the scheme before generations, with its session, or null. */
  async findLegacy(tokenHash: Buffer): Promise<LegacyToken | null> {
    const rows = await this.prepared<
      SessionStateRow & {
        rotated_at: Date | null;
        revoked_at: Date | null;
        generation: number | null;
        device_id_hash: Uint8Array | null;
      }
    >(
      'find_legacy',
      `SELECT s.id AS session_id, s.user_id, s.expires_at, s.last_used_at, s.revoked_at,
         s.generation, s.device_id_hash, s.roles, t.rotated_at
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
      generation: row.generation,
      deviceIdHash: row.device_id_hash,
    };
  }

  /**
   * The upgrade's one rotation of a token issued before generations: the session starts its
   * chain at generation 1 and the legacy token is marked rotated, in one statement, only if the
   * token was not rotated yet and the session is alive and has no chain yet.
   */
  async rotateLegacy(
    presentedHash: Buffer,
    next: { hash: Buffer; box: Buffer },
    now: Date,
    idleSince: Date,
  ): Promise<SessionState | null> {
    const rows = await this.prepared<SessionStateRow>(
      'rotate_legacy',
      // The session row is the statement's target, so a revocation or another upgrade that
      // commits first is seen (re-checked under the row lock) and this one then changes nothing.
      `WITH chained AS (
         UPDATE auth_sessions s SET generation = 1, token_hash = $2, previous_token_hash = $1,
           successor_box = $3, rotated_at = $4, last_used_at = $4
         WHERE s.id = (SELECT t.session_id FROM auth_refresh_tokens t
                       WHERE t.token_hash = $1 AND t.rotated_at IS NULL)
           AND s.generation IS NULL AND s.revoked_at IS NULL
           AND s.expires_at > $4 AND s.last_used_at > $5
         RETURNING s.id AS session_id, s.user_id, s.expires_at, s.last_used_at, s.roles
       ), rotated AS (
         UPDATE auth_refresh_tokens t SET rotated_at = $4
         FROM chained c WHERE t.token_hash = $1 AND t.session_id = c.session_id
       )
       SELECT * FROM chained`,
      [presentedHash, next.hash, next.box, now, idleSince],
    );
    return rows.length ? toSessionState(rows[0]) : null;
  }
}

interface SessionStateRow {
  session_id: string;
  user_id: string;
  expires_at: Date;
  last_used_at: Date;
  roles: string[] | null;
}

interface SessionChainRow extends SessionStateRow {
  revoked_at: Date | null;
  generation: number | null;
  token_hash: Uint8Array | null;
  previous_token_hash: Uint8Array | null;
  rotated_at: Date | null;
  successor_box: Uint8Array | null;
  device_id_hash: Uint8Array | null;
}

function toSessionState(row: SessionStateRow): SessionState {
  return {
    sessionId: row.session_id,
    userId: row.user_id,
    expiresAt: new Date(row.expires_at),
    lastUsedAt: new Date(row.last_used_at),
    roles: row.roles,
  };
}
