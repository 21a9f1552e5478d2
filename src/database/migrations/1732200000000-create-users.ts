import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateUsers1732200000000 implements MigrationInterface {
  name = 'CreateUsers1732200000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE users (
        id uuid PRIMARY KEY,
        email text NOT NULL,
        name text,
        password_hash text NOT NULL,
        roles text[] NOT NULL DEFAULT '{}',
        disabled boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    // Emails are stored lower-cased; the index also guards against mixed-case writes.
    await queryRunner.query(`CREATE UNIQUE INDEX users_email_idx ON users (lower(email))`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE users`);
  }
}
