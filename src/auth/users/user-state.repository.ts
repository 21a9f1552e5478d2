import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';

/**
 * The module's own record of each user (`auth_user_state`): a version that every password
 * change, disable, logout-all and role change made through the module moves. The users
 * themselves stay in the host's `AuthUserStore`; the statement that starts a session checks
 * this version, so that a login that read the user before such a change never leaves a session
 * behind it (it reads the user again instead).
 */
@Injectable()
export class UserStateRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** The user's current version (0 before any recorded change). */
  async version(userId: string): Promise<number> {
    const rows: { version: string }[] = await this.dataSource.query(
      'SELECT version FROM auth_user_state WHERE user_id = $1',
      [userId],
    );
    return rows.length ? Number(rows[0].version) : 0;
  }

  /**
   * Moves the user's version, holding the row lock until `manager`'s transaction commits: a
   * login that read the older version fails its session insert, and one that got there first
   * is seen by whatever the transaction does next (ending sessions, updating their roles).
   * With `roles`, every live session of the user gets them: a rotation waits for the session's
   * row and then returns the new roles.
   */
  async recordChange(manager: EntityManager, userId: string, roles?: string[]): Promise<void> {
    await manager.query(
      `INSERT INTO auth_user_state (user_id, version) VALUES ($1, 1)
       ON CONFLICT (user_id) DO UPDATE SET version = auth_user_state.version + 1`,
      [userId],
    );
    if (roles) {
      await manager.query(
        `UPDATE auth_sessions SET roles = $2::text[] WHERE user_id = $1 AND revoked_at IS NULL`,
        [userId, roles],
      );
    }
  }
}
