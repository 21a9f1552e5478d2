import type { PGlite } from '@electric-sql/pglite' with { 'resolution-mode': 'import' };
import { Logger } from '@nestjs/common';
import { mkdirSync } from 'node:fs';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { AUTH_ENTITIES, AUTH_MIGRATIONS } from '../auth';
import type { DatabaseConfig } from '../config/configuration';
import { User } from '../users/user.entity';
import { CreateUsers1732200000000 } from './migrations/1732200000000-create-users';

export const ENTITIES = [User, ...AUTH_ENTITIES];
export const MIGRATIONS = [CreateUsers1732200000000, ...AUTH_MIGRATIONS];

// Serialises migrations across instances that start at the same moment.
const MIGRATION_LOCK = 0x6e74_6d31; // "ntm1"

const logger = new Logger('Database');

/** TypeORM options for a PostgreSQL server. Never `synchronize`: the schema is migrations. */
export function postgresOptions(url: string): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    synchronize: false,
    poolSize: 20,
    // An unreachable or stalled database must answer 503 within 5 s, not hang the request.
    connectTimeoutMS: 3000,
    extra: { query_timeout: 4000 },
  };
}

/**
 * PGlite is one Postgres backend in this process: one pooled connection serialises
 * transactions correctly (a shared session would let concurrent transactions see each other).
 */
export async function embeddedOptions(pglite: PGlite): Promise<DataSourceOptions> {
  const { createPgConfig } = await import('@electric-sql/pglite/node-postgres');
  return {
    type: 'postgres',
    entities: ENTITIES,
    migrations: MIGRATIONS,
    synchronize: false,
    poolSize: 1,
    extra: { ...createPgConfig(pglite), idleTimeoutMillis: 0 },
  };
}

/** A DataSource over an embedded PGlite database that closes the database with it. */
export class EmbeddedDataSource extends DataSource {
  constructor(
    options: DataSourceOptions,
    private readonly pglite: PGlite,
  ) {
    super(options);
  }

  override async destroy(): Promise<void> {
    await super.destroy();
    await this.pglite.close();
  }
}

/** The configured database's DataSource, not yet initialised (the migration CLI uses it too). */
export async function createDataSource(config: DatabaseConfig): Promise<DataSource> {
  if (config.url) return new DataSource(postgresOptions(config.url));
  mkdirSync(config.dataDir, { recursive: true });
  const { PGlite } = await import('@electric-sql/pglite');
  const pglite = await PGlite.create(config.dataDir);
  return new EmbeddedDataSource(await embeddedOptions(pglite), pglite);
}

/** Opens the configured database and brings its schema up to date. */
export async function openDatabase(config: DatabaseConfig): Promise<DataSource> {
  const dataSource = await (await createDataSource(config)).initialize();
  // One process owns a PGlite directory, so only PostgreSQL has other instances to race with.
  if (config.url) await migrateWithLock(dataSource);
  else await runMigrations(dataSource);
  return dataSource;
}

async function migrateWithLock(dataSource: DataSource): Promise<void> {
  const lock = dataSource.createQueryRunner();
  await lock.connect();
  try {
    await lock.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    await runMigrations(dataSource);
  } finally {
    await lock.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    await lock.release();
  }
}

async function runMigrations(dataSource: DataSource): Promise<void> {
  const applied = await dataSource.runMigrations({ transaction: 'each' });
  for (const migration of applied) logger.log(`applied migration ${migration.name}`);
}
