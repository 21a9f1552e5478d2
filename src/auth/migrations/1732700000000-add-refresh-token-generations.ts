import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * One refresh-token chain per session, kept in the session row: the current generation, the
 * hashes of the current and the previous token, when the previous one was rotated and the
 * current one sealed under the previous one (the grace window's successor). Tokens of earlier
 * releases stay in `auth_refresh_tokens` and refresh once into the new scheme; new sessions
 * write no rows there, so storage no longer grows with rotations.
 *
 * Sessions keep the roles their access tokens carry: a role change updates every live session
 * of the user, so the session's row lock orders it with every rotation (one round trip per
 * refresh, no roles older than an acknowledged change). `auth_user_state` is the module's own
 * record of each user: a version that password changes, disables, logouts-all and role changes
 * move, checked by the statement that starts a session (a login racing such a change reads the
 * user again, and never outlives it).
 *
 * `auth_secrets` holds the refresh-token key when the host configures none.
 */
export class AddRefreshTokenGenerations1732700000000 implements MigrationInterface {
  name = 'AddRefreshTokenGenerations1732700000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE auth_sessions
        ADD COLUMN generation integer,
        ADD COLUMN token_hash bytea,
        ADD COLUMN previous_token_hash bytea,
        ADD COLUMN rotated_at timestamptz,
        ADD COLUMN successor_box bytea,
        ADD COLUMN roles text[]`);
    await queryRunner.query(`
      CREATE TABLE auth_user_state (
        user_id text PRIMARY KEY,
        version bigint NOT NULL DEFAULT 0
      )`);
    await queryRunner.query(`
      CREATE TABLE auth_secrets (
        name text PRIMARY KEY,
        value bytea NOT NULL,
        created_at timestamptz NOT NULL
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE auth_secrets`);
    await queryRunner.query(`DROP TABLE auth_user_state`);
    await queryRunner.query(`
      ALTER TABLE auth_sessions
        DROP COLUMN generation, DROP COLUMN token_hash, DROP COLUMN previous_token_hash,
        DROP COLUMN rotated_at, DROP COLUMN successor_box, DROP COLUMN roles`);
  }
}
