// The DataSource the TypeORM CLI uses (`npm run migration:run`, `npm run migration:show`), for
// the database the environment names. The service itself applies migrations on start.
import 'reflect-metadata';
import { loadConfiguration } from './src/config/configuration';
import { createDataSource } from './src/database/data-source';

export default createDataSource(loadConfiguration().database);
