import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The SHA-256 of the `device_id` a login carried, which device binding compares refreshes with. */
export class AddSessionDeviceBinding1732600000000 implements MigrationInterface {
  name = 'AddSessionDeviceBinding1732600000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE auth_sessions ADD COLUMN device_id_hash bytea`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE auth_sessions DROP COLUMN device_id_hash`);
  }
}
