import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Keys may be added ahead of their activation, so every instance knows them before they sign. */
export class AddKeyActivation1732500000000 implements MigrationInterface {
  name = 'AddKeyActivation1732500000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE auth_signing_keys ADD COLUMN activates_at timestamptz NOT NULL DEFAULT now()`,
    );
    await queryRunner.query(`UPDATE auth_signing_keys SET activates_at = created_at`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE auth_signing_keys DROP COLUMN activates_at`);
  }
}
