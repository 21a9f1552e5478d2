import { Client } from 'pg';
import { MIGRATIONS } from '../src/database/data-source';
import { login, me, PASSWORD, refresh, signUp } from './support/auth-client';
import { startApp, type TestApp } from './support/test-app';
import { createTestDatabase, type TestDatabase, usingPostgres } from './support/test-database';
import { msUntil } from './support/time';

/** Milliseconds until `t` refuses the access token, polling every 20 ms; Infinity after `limitMs`. */
function msUntilRefused(t: TestApp, accessToken: string, limitMs = 3000): Promise<number> {
  return msUntil(async () => (await me(t, accessToken)).status === 401, limitMs, 20);
}

// Two instances on one PostgreSQL database, in one process: each has its own key cache,
// revocation set and LISTEN connection, as separate processes would.
(usingPostgres ? describe : describe.skip)('two instances on one PostgreSQL database', () => {
  let database: TestDatabase;
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    database = await createTestDatabase();
    const env = {
      AUTH_REFRESH_REUSE_GRACE: '0',
      AUTH_ADMIN_EMAIL: 'admin@example.com',
      AUTH_ADMIN_PASSWORD: 'admin password 1',
    };
    // Started at the same moment on a fresh database: migrations, key creation and the admin
    // bootstrap must not race.
    [a, b] = await Promise.all([startApp(database, env), startApp(database, env)]);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await database.drop();
  });

  it('came up once: one migration run, one signing key, one admin', async () => {
    const [{ migrations }] = await a.dataSource.query(
      'SELECT count(*)::int AS migrations FROM migrations',
    );
    const [{ keys }] = await a.dataSource.query(
      'SELECT count(*)::int AS keys FROM auth_signing_keys',
    );
    const [{ admins }] = await a.dataSource.query(
      `SELECT count(*)::int AS admins FROM users WHERE email = 'admin@example.com'`,
    );
    expect({ migrations, keys, admins }).toEqual({
      migrations: MIGRATIONS.length,
      keys: 1,
      admins: 1,
    });
  });

  it('accepts, refreshes and revokes a pair issued by the other instance', async () => {
    const { tokens } = await signUp(a);
    await me(b, tokens.access_token).expect(200);
    const refreshed = await refresh(b, tokens.refresh_token).expect(200);
    await me(a, refreshed.body.access_token).expect(200);
    await refresh(a, refreshed.body.refresh_token).expect(200);
  });

  it('logout on B makes the access token fail on A within 1 s', async () => {
    const { tokens } = await signUp(a);
    await me(a, tokens.access_token).expect(200);
    await b.http().post('/auth/logout').send({ refresh_token: tokens.refresh_token }).expect(204);
    expect(await msUntilRefused(a, tokens.access_token)).toBeLessThan(1000);
  });

  it.each([
    [
      'logout-all',
      (t: TestApp, access: string) =>
        t.http().post('/auth/logout-all').set('Authorization', `Bearer ${access}`).expect(204),
    ],
    [
      'password change',
      (t: TestApp, access: string) =>
        t
          .http()
          .post('/auth/password')
          .set('Authorization', `Bearer ${access}`)
          .send({ currentPassword: PASSWORD, newPassword: 'another password 2' })
          .expect(204),
    ],
  ])('%s on B ends the other sessions on A within 1 s', async (_name, act) => {
    const { email, tokens } = await signUp(a);
    const other = await login(a, email);
    await act(b, tokens.access_token);
    expect(await msUntilRefused(a, other.access_token)).toBeLessThan(1000);
  });

  it('admin disable on B ends the user’s sessions on A within 1 s', async () => {
    const { id, tokens } = await signUp(a);
    const admin = await login(b, 'admin@example.com', 'admin password 1');
    await b
      .http()
      .patch(`/admin/users/${id}`)
      .set('Authorization', `Bearer ${admin.access_token}`)
      .send({ disabled: true })
      .expect(200);
    expect(await msUntilRefused(a, tokens.access_token)).toBeLessThan(1000);
  });

  it('reuse detected on B ends the session on A within 1 s', async () => {
    const { tokens } = await signUp(a);
    const rotated = await refresh(a, tokens.refresh_token).expect(200);
    await refresh(b, tokens.refresh_token).expect(401); // grace 0: reuse
    expect(await msUntilRefused(a, rotated.body.access_token)).toBeLessThan(1000);
  });

  it('lets exactly one of 30 concurrent refreshes split across A and B succeed', async () => {
    const { tokens } = await signUp(a);
    const responses = await Promise.all(
      Array.from({ length: 30 }, (_, i) => refresh(i % 2 ? a : b, tokens.refresh_token)),
    );
    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 401)).toHaveLength(29);
  });

  it('catches up after losing its LISTEN connection', async () => {
    const { tokens } = await signUp(a);
    // Cut every LISTEN connection to this database (both instances reconnect).
    const admin = new Client({ connectionString: database.url });
    await admin.connect();
    try {
      const { rowCount } = await admin.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = current_database() AND query LIKE 'LISTEN%'`,
      );
      expect(rowCount).toBe(2);
    } finally {
      await admin.end();
    }
    await b.http().post('/auth/logout').send({ refresh_token: tokens.refresh_token }).expect(204);
    expect(await msUntilRefused(a, tokens.access_token, 5000)).toBeLessThan(5000);
  });
});

describe('a guarded request does no database round trip', () => {
  let database: TestDatabase;
  let t: TestApp;

  beforeAll(async () => {
    database = await createTestDatabase();
    t = await startApp(database);
  });
  afterAll(async () => {
    await t.close();
    await database.drop();
  });

  it('verifies 50 bearer requests without a single query, revocations included', async () => {
    const { tokens } = await signUp(t);
    const revoked = await signUp(t);
    await t
      .http()
      .post('/auth/logout')
      .send({ refresh_token: revoked.tokens.refresh_token })
      .expect(204);

    // Every way TypeORM reaches the database: DataSource.query, query runners, the pool.
    const pool = (t.dataSource.driver as unknown as { master: { connect: () => unknown } }).master;
    const counters = [
      jest.spyOn(t.dataSource, 'query'),
      jest.spyOn(t.dataSource, 'createQueryRunner'),
      jest.spyOn(pool, 'connect'),
    ];
    try {
      for (let i = 0; i < 25; i += 1) {
        await t
          .http()
          .get('/demo/private')
          .set('Authorization', `Bearer ${tokens.access_token}`)
          .expect(200);
        await t
          .http()
          .get('/demo/private')
          .set('Authorization', `Bearer ${revoked.tokens.access_token}`)
          .expect(401);
      }
      expect(counters.map((counter) => counter.mock.calls.length)).toEqual([0, 0, 0]);

      // The counters do count: a request that needs the database shows up.
      await me(t, tokens.access_token).expect(200);
      expect(counters.reduce((sum, counter) => sum + counter.mock.calls.length, 0)).toBeGreaterThan(
        0,
      );
    } finally {
      for (const counter of counters) counter.mockRestore();
    }
  });
});
