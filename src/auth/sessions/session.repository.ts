import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

/** Why a session ended. */
export type SessionEndReason = 'logout' | 'reuse_detected' | 'user_disabled';

@Injectable()
export class SessionRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Ends a session; true when it was still active. */
  async revoke(sessionId: string, reason: SessionEndReason, now: Date): Promise<boolean> {
    const rows: unknown[] = await this.dataSource.query(
      `WITH revoked AS (
         UPDATE auth_sessions SET revoked_at = $2, revoked_reason = $3
         WHERE id = $1 AND revoked_at IS NULL RETURNING id
       )
       SELECT id FROM revoked`,
      [sessionId, now, reason],
    );
    return rows.length > 0;
  }
}
