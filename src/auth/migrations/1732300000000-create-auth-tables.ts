import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Sessions, refresh tokens and signing keys. */
export class CreateAuthTables1732300000000 implements MigrationInterface {
  name = 'CreateAuthTables1732300000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE auth_sessions (
        id uuid PRIMARY KEY,
        user_id text NOT NULL,
        device text,
        user_agent text,
        ip text,
        created_at timestamptz NOT NULL,
        last_used_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        revoked_at timestamptz,
        revoked_reason text
      )`);
    await queryRunner.query(`CREATE INDEX auth_sessions_user_id_idx ON auth_sessions (user_id)`);
    await queryRunner.query(`
      CREATE TABLE auth_refresh_tokens (
        id uuid PRIMARY KEY,
        session_id uuid NOT NULL REFERENCES auth_sessions (id) ON DELETE CASCADE,
        token_hash bytea NOT NULL,
        created_at timestamptz NOT NULL,
        rotated_at timestamptz
      )`);
    await queryRunner.query(
      `CREATE UNIQUE INDEX auth_refresh_tokens_token_hash_idx ON auth_refresh_tokens (token_hash)`,
    );
    await queryRunner.query(
      `CREATE INDEX auth_refresh_tokens_session_id_idx ON auth_refresh_tokens (session_id)`,
    );
    await queryRunner.query(`
      CREATE TABLE auth_signing_keys (
        kid text PRIMARY KEY,
        alg text NOT NULL,
        private_key text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        retired_at timestamptz
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE auth_signing_keys`);
    await queryRunner.query(`DROP TABLE auth_refresh_tokens`);
    await queryRunner.query(`DROP TABLE auth_sessions`);
  }
}
