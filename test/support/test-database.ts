import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';

/** A database of its own for one test file: PGlite in a temp dir, or a fresh PostgreSQL database. */
export interface TestDatabase {
  kind: 'pglite' | 'postgres';
  /** Environment that points the app at this database. */
  env: Record<string, string>;
  /** Runs SQL against the database from outside the app (PostgreSQL only). */
  url?: string;
  drop(): Promise<void>;
}

export const usingPostgres = Boolean(process.env.DATABASE_URL);

export async function createTestDatabase(): Promise<TestDatabase> {
  const serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) return createPgliteDatabase();
  const name = `nta_test_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  await withAdmin(serverUrl, (client) => client.query(`CREATE DATABASE ${name}`));
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    kind: 'postgres',
    env: { DATABASE_URL: url.toString() },
    url: url.toString(),
    drop: async () => {
      await withAdmin(serverUrl, (client) =>
        client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
      );
    },
  };
}

/** An embedded database directory of its own, whatever database the suite runs on. */
export function createPgliteDatabase(): TestDatabase {
  const dataDir = mkdtempSync(join(tmpdir(), 'nta-test-'));
  return {
    kind: 'pglite',
    env: { AUTH_DATA_DIR: dataDir },
    drop: () => Promise.resolve(rmSync(dataDir, { recursive: true, force: true })),
  };
}

async function withAdmin<T>(url: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
