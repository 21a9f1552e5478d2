import {
  decodeJwt,
  login,
  me,
  PASSWORD,
  refresh,
  signUp,
  type TokenPair,
} from './support/auth-client';
import { startApp, type TestApp } from './support/test-app';
import { createTestDatabase, type TestDatabase, usingPostgres } from './support/test-database';
import { sleep } from './support/time';

const ADMIN = { email: 'admin@example.com', password: 'admin password 1' };
const NEW_PASSWORD = 'a brand new passphrase';
const LOGINS = 60;

interface LoginOutcome {
  status: number;
  tokens?: TokenPair;
}

/**
 * `LOGINS` logins for `email` with the old password, split across both instances and spread
 * over `spreadMs`, so that some verify the password while the change is being made.
 */
function racingLogins(
  instances: TestApp[],
  email: string,
  spreadMs: number,
): Promise<LoginOutcome[]> {
  return Promise.all(
    Array.from({ length: LOGINS }, async (_, i) => {
      await sleep((i * spreadMs) / LOGINS);
      const response = await instances[i % instances.length]
        .http()
        .post('/auth/login')
        .send({ email, password: PASSWORD });
      return {
        status: response.status,
        tokens: response.status === 200 ? response.body : undefined,
      };
    }),
  );
}

/** Every session a successful login started is dead: refresh 401 and, within 1 s, access 401. */
async function expectAllEnded(instances: TestApp[], outcomes: LoginOutcome[]): Promise<void> {
  const started = outcomes.filter((outcome) => outcome.tokens).map((outcome) => outcome.tokens!);
  await sleep(1000);
  const alive: string[] = [];
  for (const tokens of started) {
    for (const t of instances) {
      if ((await me(t, tokens.access_token)).status !== 401)
        alive.push(`access ${tokens.session_id}`);
    }
    if ((await refresh(instances[0], tokens.refresh_token)).status !== 401) {
      alive.push(`refresh ${tokens.session_id}`);
    }
  }
  expect(alive).toEqual([]);
}

// Two instances on one PostgreSQL database: logins, refreshes and the changes that must win
// against them, fired at both at once.
(usingPostgres ? describe : describe.skip)('races on two instances (PostgreSQL)', () => {
  let database: TestDatabase;
  let a: TestApp;
  let b: TestApp;
  let admin: TokenPair;

  beforeAll(async () => {
    database = await createTestDatabase();
    const env = {
      AUTH_REFRESH_REUSE_GRACE: '0',
      AUTH_ADMIN_EMAIL: ADMIN.email,
      AUTH_ADMIN_PASSWORD: ADMIN.password,
    };
    [a, b] = await Promise.all([startApp(database, env), startApp(database, env)]);
    admin = await login(a, ADMIN.email, ADMIN.password);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await database.drop();
  });

  it(`no login with the old password outlives an acknowledged password change (${LOGINS} racing logins)`, async () => {
    const { email, tokens } = await signUp(a);
    const logins = racingLogins([a, b], email, 400);
    await sleep(120);
    await b
      .http()
      .post('/auth/password')
      .set('Authorization', `Bearer ${tokens.access_token}`)
      .send({ currentPassword: PASSWORD, newPassword: NEW_PASSWORD })
      .expect(204);
    const outcomes = await logins;
    // The race happened: some logins got in before the change, the later ones were refused.
    expect(outcomes.some((outcome) => outcome.status === 200)).toBe(true);
    expect(outcomes.some((outcome) => outcome.status === 401)).toBe(true);
    await expectAllEnded([a, b], outcomes);
    // The session that changed the password goes on; the new password logs in.
    await me(a, tokens.access_token).expect(200);
    await a.http().post('/auth/login').send({ email, password: NEW_PASSWORD }).expect(200);
  }, 60_000);

  it(`no session of a user outlives an acknowledged disable (${LOGINS} racing logins)`, async () => {
    const { id, email } = await signUp(a);
    const logins = racingLogins([a, b], email, 400);
    await sleep(120);
    await a
      .http()
      .patch(`/admin/users/${id}`)
      .set('Authorization', `Bearer ${admin.access_token}`)
      .send({ disabled: true })
      .expect(200);
    const outcomes = await logins;
    expect(outcomes.some((outcome) => outcome.status === 200)).toBe(true);
    expect(outcomes.some((outcome) => outcome.status === 401)).toBe(true);
    await expectAllEnded([a, b], outcomes);
  }, 60_000);

  it('no refresh after an acknowledged role change hands out the old roles', async () => {
    const { id, email } = await signUp(a);
    const sessions = await Promise.all(
      Array.from({ length: 10 }, (_, i) => login(i % 2 ? a : b, email)),
    );
    // Every session refreshes in a loop on both instances while the roles change.
    let acknowledged = false;
    const stale: string[] = [];
    const loops = sessions.map(async (session, i) => {
      let current = session.refresh_token;
      for (let round = 0; round < 15; round += 1) {
        const sentAfterAck = acknowledged;
        const response = await refresh((i + round) % 2 ? a : b, current).expect(200);
        current = response.body.refresh_token;
        const roles = decodeJwt(response.body.access_token).payload.roles as string[];
        if (sentAfterAck && !roles.includes('editor')) stale.push(`${session.session_id}#${round}`);
      }
      return current;
    });
    await sleep(50);
    await b
      .http()
      .patch(`/admin/users/${id}`)
      .set('Authorization', `Bearer ${admin.access_token}`)
      .send({ roles: ['editor'] })
      .expect(200);
    acknowledged = true;
    const last = await Promise.all(loops);
    expect(stale).toEqual([]);
    // And after the race, every session's next token carries the new roles.
    for (const token of last) {
      const response = await refresh(a, token).expect(200);
      expect(decodeJwt(response.body.access_token).payload.roles).toEqual(['editor']);
    }
  }, 60_000);

  it('concurrent role changes leave every session with the roles the store ends up with', async () => {
    const { id, email } = await signUp(a);
    const session = await login(a, email);
    const admins = [admin, await login(b, ADMIN.email, ADMIN.password)];
    // Admins change the same user's roles at once, on both instances, round after round.
    for (let round = 0; round < 8; round += 1) {
      await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          [a, b][i % 2]
            .http()
            .patch(`/admin/users/${id}`)
            .set('Authorization', `Bearer ${admins[i % 2].access_token}`)
            .send({ roles: [`role-${round}-${i}`] })
            .expect(200),
        ),
      );
      const [{ roles: stored }] = await a.dataSource.query(
        'SELECT roles FROM users WHERE id = $1',
        [id],
      );
      const refreshed = await refresh(round % 2 ? a : b, session.refresh_token).expect(200);
      session.refresh_token = refreshed.body.refresh_token;
      expect(decodeJwt(refreshed.body.access_token).payload.roles).toEqual(stored);
    }
  }, 60_000);

  it('a logout racing refreshes of its session is final', async () => {
    const { email } = await signUp(a);
    const session = await login(a, email);
    const rotated = await refresh(b, session.refresh_token).expect(200);
    // Refreshes of the current token on both instances, and a logout with it, at once.
    const [logout, ...refreshes] = await Promise.all([
      a.http().post('/auth/logout').send({ refresh_token: rotated.body.refresh_token }),
      refresh(a, rotated.body.refresh_token),
      refresh(b, rotated.body.refresh_token),
    ]);
    expect(logout.status).toBe(204);
    await sleep(1000);
    for (const response of refreshes) {
      if (response.status !== 200) continue;
      // A refresh that won the race hands out a pair of the same, now ended, session.
      await refresh(a, response.body.refresh_token).expect(401);
      await me(a, response.body.access_token).expect(401);
      await me(b, response.body.access_token).expect(401);
    }
  }, 30_000);
});
