import { createServer } from 'node:net';
import { startApp, type TestApp } from './test-app';
import { createTestDatabase, type TestDatabase } from './test-database';

/** An app on a real loopback port, for clients that fetch URLs (openid-client, jose, Python). */
export interface ListeningApp extends TestApp {
  port: number;
  /** `http://127.0.0.1:PORT`: the app's AUTH_ISSUER and the base of its metadata URLs. */
  issuer: string;
}

/** A port nothing listens on right now (the OS picks it; it is closed again at once). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = address && typeof address === 'object' ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts the service on `database` as `startApp` does, with AUTH_ISSUER set to the URL it then
 * listens on. Another process may take the free port between the check and the listen: then it
 * starts again on another one.
 */
async function startListeningApp(
  database: TestDatabase,
  env: Record<string, string> = {},
): Promise<ListeningApp> {
  for (let attempt = 1; ; attempt += 1) {
    const port = await freePort();
    const issuer = `http://127.0.0.1:${port}`;
    const t = await startApp(database, { AUTH_ISSUER: issuer, ...env });
    try {
      await t.app.listen(port, '127.0.0.1');
      return { ...t, port, issuer };
    } catch (error) {
      await t.close();
      if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= 3) throw error;
    }
  }
}

/** A database of its own and a listening app on it, torn down together. */
export async function createListeningTestApp(
  env: Record<string, string> = {},
): Promise<ListeningApp & { database: TestDatabase }> {
  const database = await createTestDatabase();
  const t = await startListeningApp(database, env).catch(async (error: unknown) => {
    await database.drop();
    throw error;
  });
  return {
    ...t,
    database,
    close: async () => {
      await t.close();
      await database.drop();
    },
  };
}
