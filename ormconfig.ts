// The DataSource the TypeORM CLI uses (`npm run migration:run`). The service itself applies
// migrations on start; see src/database/data-source.ts.
import 'reflect-metadata';
import { createPgConfig } from '@electric-sql/pglite/node-postgres';
import { DataSource } from 'typeorm';
import { loadConfiguration } from './src/config/configuration';
import { ENTITIES, MIGRATIONS, postgresOptions } from './src/database/data-source';

const { database } = loadConfiguration();

export default new DataSource(
  database.url
    ? postgresOptions(database.url)
    : {
        type: 'postgres',
        entities: ENTITIES,
        migrations: MIGRATIONS,
        poolSize: 1,
        extra: { ...createPgConfig(database.dataDir), idleTimeoutMillis: 0 },
      },
);
