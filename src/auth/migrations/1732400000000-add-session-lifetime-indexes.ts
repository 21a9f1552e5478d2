import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Indexes for loading recent revocations at start and for the hourly cleanup. */
export class AddSessionLifetimeIndexes1732400000000 implements MigrationInterface {
  name = 'AddSessionLifetimeIndexes1732400000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE INDEX auth_sessions_revoked_at_idx ON auth_sessions (revoked_at) WHERE revoked_at IS NOT NULL`,
    );
    await queryRunner.query(
      `CREATE INDEX auth_sessions_expires_at_idx ON auth_sessions (expires_at)`,
    );
    await queryRunner.query(
      `CREATE INDEX auth_sessions_last_used_at_idx ON auth_sessions (last_used_at)`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX auth_sessions_last_used_at_idx`);
    await queryRunner.query(`DROP INDEX auth_sessions_expires_at_idx`);
    await queryRunner.query(`DROP INDEX auth_sessions_revoked_at_idx`);
  }
}
