import type { PGlite } from '@electric-sql/pglite' with { 'resolution-mode': 'import' };
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Client, type QueryResultRow } from 'pg';

/** A database of the bench's own: a fresh PostgreSQL database, or a PGlite directory. */
export interface BenchDatabase {
  kind: 'postgres' | 'embedded';
  /** Environment that points a process at this database. */
  env: Record<string, string>;
  /** Runs SQL on one connection to it. Embedded: only while no process has the directory open. */
  session<T>(work: (query: Query) => Promise<T>): Promise<T>;
  drop(): Promise<void>;
}

export type Query = <T extends object>(sql: string, params?: unknown[]) => Promise<T[]>;

/** Creates `nta_bench_*` on the server of `serverUrl`, or a PGlite directory under `workDir`. */
export async function createBenchDatabase(
  serverUrl: string | undefined,
  workDir: string,
): Promise<BenchDatabase> {
  if (!serverUrl) {
    const dataDir = mkdtempSync(join(workDir, 'pglite-'));
    return {
      kind: 'embedded',
      env: { AUTH_DATA_DIR: dataDir },
      session: (work) => withPGlite(dataDir, work),
      drop: () => Promise.resolve(rmSync(dataDir, { recursive: true, force: true })),
    };
  }
  const name = `nta_bench_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  await withClient(serverUrl, (query) => query(`CREATE DATABASE ${name}`));
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    kind: 'postgres',
    env: { DATABASE_URL: url.toString() },
    session: (work) => withClient(url.toString(), work),
    drop: async () => {
      await withClient(serverUrl, (query) => query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}

/**
 * Tops the stored refresh tokens up to `total` with one INSERT ... SELECT generate_series:
 * sessions of 10 tokens (9 rotated, 1 current), all ids and hashes distinct from real ones.
 * Keys are generated in index order, so each index grows at its edge instead of at random
 * pages: about 10x faster, and the resulting indexes are as packed as a freshly built one.
 * `round` keeps the ids of successive top-ups apart.
 */
export async function seedRefreshTokens(
  database: BenchDatabase,
  total: number,
  round: number,
): Promise<{ before: number; after: number; ms: number }> {
  return database.session(async (query) => {
    const count = async () =>
      Number((await query<{ n: string }>('SELECT count(*) AS n FROM auth_refresh_tokens'))[0].n);
    const before = await count();
    const missing = total - before;
    const startedAt = performance.now();
    if (missing > 0) {
      // Each token references a session inserted by the same statement: the foreign-key check,
      // half the time of the insert, can be skipped as pg_restore --disable-triggers does. It
      // takes a superuser; without one the check runs.
      await query('SET session_replication_role = replica').catch(() => undefined);
      const prefix = round.toString(16).padStart(8, '0');
      await query(
        `WITH numbered AS (
           SELECT row_number() OVER (ORDER BY h) - 1 AS k, h
           FROM (SELECT sha256(int4send(g) || int4send($2::int)) AS h
                 FROM generate_series(1, $1::int) g) hashes
         ), seeded_sessions AS (
           INSERT INTO auth_sessions (id, user_id, device, created_at, last_used_at, expires_at)
           SELECT ($3 || lpad(to_hex(s), 12, '0'))::uuid, 'bench-seed', 'bench seed',
                  now(), now(), now() + interval '30 days'
           FROM generate_series(0, ($1::int - 1) / 10) s
           RETURNING id
         )
         INSERT INTO auth_refresh_tokens (id, session_id, token_hash, created_at, rotated_at)
         SELECT ($4 || lpad(to_hex(k), 12, '0'))::uuid, ($3 || lpad(to_hex(k / 10), 12, '0'))::uuid,
                h, now(), CASE WHEN k % 10 < 9 THEN now() END
         FROM numbered
         WHERE EXISTS (SELECT 1 FROM seeded_sessions)`,
        [missing, round, `${prefix}-0000-4000-8000-`, `${prefix}-0000-4000-9000-`],
      );
      await query('RESET session_replication_role');
      // Fresh statistics, as autovacuum would gather them on a table that grew this much.
      await query('ANALYZE auth_refresh_tokens, auth_sessions');
    }
    return { before, after: await count(), ms: performance.now() - startedAt };
  });
}

async function withClient<T>(url: string, work: (query: Query) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await work(
      async <R extends object>(sql: string, params?: unknown[]) =>
        (await client.query<R & QueryResultRow>(sql, params)).rows,
    );
  } finally {
    await client.end();
  }
}

async function withPGlite<T>(dataDir: string, work: (query: Query) => Promise<T>): Promise<T> {
  const { PGlite } = await import('@electric-sql/pglite');
  const db: PGlite = await PGlite.create(dataDir);
  try {
    return await work(
      async <R extends object>(sql: string, params?: unknown[]) =>
        (await db.query<R>(sql, params)).rows,
    );
  } finally {
    await db.close();
  }
}
