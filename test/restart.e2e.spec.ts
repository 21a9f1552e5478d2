import { SigningKeysService } from '../src/auth/keys/signing-keys.service';
import {
  decodeJwt,
  expectInvalidToken,
  login,
  me,
  refresh,
  signUp,
  type TokenPair,
} from './support/auth-client';
import { startApp, type TestApp } from './support/test-app';
import { createTestDatabase, type TestDatabase, usingPostgres } from './support/test-database';

async function storedKids(t: TestApp): Promise<string[]> {
  const rows: { kid: string }[] = await t.dataSource.query('SELECT kid FROM auth_signing_keys');
  return rows.map((row) => row.kid);
}

describe('an app restarted on the same database', () => {
  let database: TestDatabase;
  let second: TestApp;
  let before: Awaited<ReturnType<typeof signUp>>;
  let kidBefore: string;
  /** A session logged out before the restart. */
  let loggedOut: TokenPair;

  beforeAll(async () => {
    database = await createTestDatabase();
    const first = await startApp(database);
    try {
      before = await signUp(first);
      kidBefore = decodeJwt(before.tokens.access_token).header.kid;
      expect(await storedKids(first)).toEqual([kidBefore]);

      loggedOut = await login(first, before.email);
      await first
        .http()
        .post('/auth/logout')
        .set('Authorization', `Bearer ${loggedOut.access_token}`)
        .expect(204);
      await me(first, loggedOut.access_token).expect(401);
    } finally {
      // Only the app: the database stays for the next one.
      await first.close();
    }
    second = await startApp(database);
  });
  afterAll(async () => {
    await second?.close();
    await database.drop();
  });

  it('accepts the access token issued before the restart', async () => {
    const response = await me(second, before.tokens.access_token);
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ id: before.id, email: before.email });
  });

  it('signs new tokens with the same, persisted key', async () => {
    const tokens = await login(second, before.email);
    expect(decodeJwt(tokens.access_token).header.kid).toBe(kidBefore);
    expect(await storedKids(second)).toEqual([kidBefore]);
  });

  it('refreshes the refresh token issued before the restart, in the same session', async () => {
    const response = await refresh(second, before.tokens.refresh_token);
    expect(response.status).toBe(200);
    expect(response.body.session_id).toBe(before.tokens.session_id);
    expect(decodeJwt(response.body.access_token).payload.sid).toBe(before.tokens.session_id);
    expect(decodeJwt(response.body.access_token).header.kid).toBe(kidBefore);
    await me(second, response.body.access_token).expect(200);
  });

  it('does not bring back a session that ended before the restart (refresh token)', async () => {
    await refresh(second, loggedOut.refresh_token).expect(401);
  });

  it('does not bring back a session that ended before the restart (access token)', async () => {
    expectInvalidToken(await me(second, loggedOut.access_token));
  });
});

describe('two apps started at the same moment on one fresh database', () => {
  // One process owns a PGlite directory: only PostgreSQL can have two apps on one database.
  (usingPostgres ? it : it.skip)(
    'both come up with one generated key and accept each other’s tokens',
    async () => {
      const database = await createTestDatabase();
      const started = await Promise.allSettled([startApp(database), startApp(database)]);
      const apps = started.flatMap((result) =>
        result.status === 'fulfilled' ? [result.value] : [],
      );
      try {
        expect(started.map((result) => result.status)).toEqual(['fulfilled', 'fulfilled']);
        const [a, b] = apps;

        const kids = await storedKids(a);
        expect(kids).toHaveLength(1);
        expect(await storedKids(b)).toEqual(kids);
        // Each app holds that key itself. (Checked inside the apps because @nestjs/passport keeps
        // one process-wide registry: in this process both apps' guards run the strategy of the
        // app constructed last, so the HTTP checks below alone could not tell the apps apart.)
        for (const app of apps) {
          const keys = app.app.get(SigningKeysService);
          expect(keys.currentKey().kid).toBe(kids[0]);
        }

        const fromA = await signUp(a);
        expect(decodeJwt(fromA.tokens.access_token).header.kid).toBe(kids[0]);
        const response = await me(b, fromA.tokens.access_token);
        expect(response.status).toBe(200);
        expect(response.body.id).toBe(fromA.id);

        const fromB = await login(b, fromA.email);
        expect(decodeJwt(fromB.access_token).header.kid).toBe(kids[0]);
        await me(a, fromB.access_token).expect(200);

        const refreshed = await refresh(a, fromB.refresh_token).expect(200);
        expect(refreshed.body.session_id).toBe(fromB.session_id);
      } finally {
        await Promise.all(apps.map((app) => app.close()));
        await database.drop();
      }
    },
  );
});
