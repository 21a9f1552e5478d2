import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { AppModule } from '../../src/app.module';
import { createApp } from '../../src/app.setup';
import { loadConfiguration } from '../../src/config/configuration';
import { createTestDatabase, type TestDatabase } from './test-database';

export interface TestApp {
  app: NestFastifyApplication;
  http: () => ReturnType<typeof request>;
  /** The app's own connection, for arranging state a test cannot reach over HTTP. */
  dataSource: DataSource;
  close(): Promise<void>;
}

/** Settings every test app gets: plain-HTTP cookies, quiet logs, no ambient environment. */
export const TEST_ENV = {
  AUTH_COOKIE_SECURE: 'false',
  LOG_LEVEL: 'silent',
  // Suites send hundreds of requests from one address; test/rate-limits.e2e.spec.ts sets its own.
  AUTH_RATE_LIMIT: '100000',
  AUTH_LOGIN_MAX_FAILURES: '1000',
};

/** Starts the service as `npm start` does, on `database`, with `env` on top of TEST_ENV. */
export async function startApp(
  database: TestDatabase,
  env: Record<string, string> = {},
): Promise<TestApp> {
  const fullEnv = { ...TEST_ENV, ...database.env, ...env };
  const app = await createApp(AppModule.forRoot(fullEnv), {
    logger: false,
    corsOrigins: loadConfiguration(fullEnv).app.corsOrigins,
  });
  return initTestApp(app);
}

/** Initialises a created app, ready for requests, as a TestApp. */
export async function initTestApp(app: NestFastifyApplication): Promise<TestApp> {
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  return {
    app,
    http: () => request(app.getHttpServer()),
    dataSource: app.get(DataSource),
    close: () => app.close(),
  };
}

/** A database and an app on it, torn down together. */
export async function createTestApp(
  env: Record<string, string> = {},
): Promise<TestApp & { database: TestDatabase }> {
  const database = await createTestDatabase();
  const testApp = await startApp(database, env);
  return {
    ...testApp,
    database,
    close: async () => {
      await testApp.close();
      await database.drop();
    },
  };
}
