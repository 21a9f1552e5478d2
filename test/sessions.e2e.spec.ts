import { randomUUID } from 'node:crypto';
import {
  decodeJwt,
  login,
  me,
  PASSWORD,
  refresh,
  register,
  signUp,
  type TokenPair,
} from './support/auth-client';
import { createTestApp, type TestApp } from './support/test-app';
import { sleep } from './support/time';

const SESSION_FIELDS = [
  'createdAt',
  'current',
  'device',
  'expiresAt',
  'id',
  'ip',
  'lastUsedAt',
  'userAgent',
].sort();

function listSessions(t: TestApp, accessToken: string) {
  return t.http().get('/auth/sessions').set('Authorization', `Bearer ${accessToken}`);
}

function deleteSession(t: TestApp, accessToken: string, sessionId: string) {
  return t
    .http()
    .delete(`/auth/sessions/${encodeURIComponent(sessionId)}`)
    .set('Authorization', `Bearer ${accessToken}`);
}

function changePassword(t: TestApp, accessToken: string, body: Record<string, unknown>) {
  return t.http().post('/auth/password').set('Authorization', `Bearer ${accessToken}`).send(body);
}

/** Logs in with a device name and a User-Agent header. */
async function loginFrom(
  t: TestApp,
  email: string,
  device: string,
  userAgent: string,
  password = PASSWORD,
): Promise<TokenPair> {
  const response = await t
    .http()
    .post('/auth/login')
    .set('User-Agent', userAgent)
    .send({ email, password, device })
    .expect(200);
  return response.body as TokenPair;
}

/** The session is over: its refresh token and its access token are refused. */
async function expectDead(t: TestApp, tokens: TokenPair): Promise<void> {
  await me(t, tokens.access_token).expect(401);
  await refresh(t, tokens.refresh_token).expect(401);
}

/** The session still works: its access token is accepted and its refresh token refreshes. */
async function expectAlive(t: TestApp, tokens: TokenPair): Promise<TokenPair> {
  await me(t, tokens.access_token).expect(200);
  const response = await refresh(t, tokens.refresh_token).expect(200);
  expect(response.body.session_id).toBe(tokens.session_id);
  return response.body as TokenPair;
}

describe('sessions: list, delete, logout-all and password change', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  describe('GET /auth/sessions', () => {
    it('lists the caller’s active sessions with exactly the documented fields', async () => {
      const { email } = await register(t);
      const tokens = await loginFrom(t, email, 'Work laptop', 'Mozilla/5.0 (X11; Linux) Test/1.0');

      const response = await listSessions(t, tokens.access_token);
      expect(response.status).toBe(200);
      expect(response.body).toHaveLength(1);
      const [session] = response.body;
      expect(Object.keys(session).sort()).toEqual(SESSION_FIELDS);
      expect(session).toEqual({
        id: tokens.session_id,
        device: 'Work laptop',
        userAgent: 'Mozilla/5.0 (X11; Linux) Test/1.0',
        ip: expect.stringMatching(/127\.0\.0\.1|::1/),
        createdAt: expect.any(String),
        lastUsedAt: expect.any(String),
        expiresAt: expect.any(String),
        current: true,
      });
      for (const field of ['createdAt', 'lastUsedAt', 'expiresAt']) {
        expect(new Date(session[field]).toISOString()).toBe(session[field]);
      }
      expect(session.lastUsedAt).toBe(session.createdAt);
      expect(JSON.stringify(response.body)).not.toContain(tokens.refresh_token);
    });

    it('marks only the session of the token used as current', async () => {
      const { email } = await register(t);
      const laptop = await loginFrom(t, email, 'Work laptop', 'UA laptop');
      const phone = await loginFrom(t, email, 'Phone', 'UA phone');

      for (const tokens of [laptop, phone]) {
        const sessions = (await listSessions(t, tokens.access_token).expect(200)).body as {
          id: string;
          current: boolean;
        }[];
        expect(sessions.map((s) => s.id).sort()).toEqual(
          [laptop.session_id, phone.session_id].sort(),
        );
        expect(sessions.filter((s) => s.current).map((s) => s.id)).toEqual([tokens.session_id]);
      }
    });

    it('leaves out revoked sessions and other users’ sessions', async () => {
      const { email } = await register(t);
      const kept = await loginFrom(t, email, 'Kept', 'UA kept');
      const loggedOut = await loginFrom(t, email, 'Logged out', 'UA logged out');
      const deleted = await loginFrom(t, email, 'Deleted', 'UA deleted');
      const stranger = await signUp(t);

      await t
        .http()
        .post('/auth/logout')
        .send({ refresh_token: loggedOut.refresh_token })
        .expect(204);
      await deleteSession(t, kept.access_token, deleted.session_id).expect(204);

      const sessions = (await listSessions(t, kept.access_token).expect(200)).body as {
        id: string;
      }[];
      expect(sessions.map((s) => s.id)).toEqual([kept.session_id]);

      const theirs = (await listSessions(t, stranger.tokens.access_token).expect(200)).body as {
        id: string;
      }[];
      expect(theirs.map((s) => s.id)).toEqual([stranger.tokens.session_id]);
    });

    it('lists the most recently used session first', async () => {
      const { email } = await register(t);
      const first = await loginFrom(t, email, 'First', 'UA 1');
      await sleep(20);
      const second = await loginFrom(t, email, 'Second', 'UA 2');
      await sleep(20);
      const third = await loginFrom(t, email, 'Third', 'UA 3');

      let sessions = (await listSessions(t, first.access_token).expect(200)).body as {
        id: string;
      }[];
      expect(sessions.map((s) => s.id)).toEqual([
        third.session_id,
        second.session_id,
        first.session_id,
      ]);

      await sleep(20);
      await refresh(t, first.refresh_token).expect(200);
      sessions = (await listSessions(t, second.access_token).expect(200)).body;
      expect(sessions.map((s) => s.id)).toEqual([
        first.session_id,
        third.session_id,
        second.session_id,
      ]);
    });

    it('moves lastUsedAt forward on refresh and keeps createdAt', async () => {
      const { email } = await register(t);
      const tokens = await loginFrom(t, email, 'Work laptop', 'UA');
      const [before] = (await listSessions(t, tokens.access_token).expect(200)).body;

      await sleep(1100);
      const refreshed = (await refresh(t, tokens.refresh_token).expect(200)).body as TokenPair;
      const [after] = (await listSessions(t, refreshed.access_token).expect(200)).body;

      expect(after.id).toBe(before.id);
      expect(after.createdAt).toBe(before.createdAt);
      expect(after.lastUsedAt > before.lastUsedAt).toBe(true);
      expect(Date.parse(after.lastUsedAt) - Date.parse(before.lastUsedAt)).toBeGreaterThanOrEqual(
        1000,
      );
    });

    it('answers 401 without a bearer token', async () => {
      const response = await t.http().get('/auth/sessions');
      expect(response.status).toBe(401);
      expect(response.headers['www-authenticate']).toBe('Bearer');
    });
  });

  describe('DELETE /auth/sessions/:id', () => {
    it('ends another session of the caller: 204, then its refresh and access tokens fail', async () => {
      const { email } = await register(t);
      const laptop = await loginFrom(t, email, 'Work laptop', 'UA laptop');
      const phone = await loginFrom(t, email, 'Phone', 'UA phone');

      const response = await deleteSession(t, laptop.access_token, phone.session_id);
      expect(response.status).toBe(204);
      expect(response.text).toBe('');

      await expectDead(t, phone);
      await expectAlive(t, laptop);
    });

    it('ends the current session too: 204, then its token answers 401', async () => {
      const { tokens } = await signUp(t);
      await deleteSession(t, tokens.access_token, tokens.session_id).expect(204);
      await expectDead(t, tokens);
    });

    it('answers 404 for another user’s session, which keeps working', async () => {
      const mine = await signUp(t);
      const theirs = await signUp(t);
      const response = await deleteSession(t, mine.tokens.access_token, theirs.tokens.session_id);
      expect(response.status).toBe(404);
      await expectAlive(t, theirs.tokens);
    });

    it.each([
      ['a random uuid', () => randomUUID()],
      ['a non-uuid string', () => 'abc'],
      ['a uuid with trailing junk', () => `${randomUUID()}x`],
      ['a long string', () => 'x'.repeat(90)],
      ['SQL', () => "1' OR '1'='1"],
    ])('answers 404 (never 5xx) for %s', async (_case, id) => {
      const { tokens } = await signUp(t);
      const response = await deleteSession(t, tokens.access_token, id());
      expect(response.status).toBe(404);
      await me(t, tokens.access_token).expect(200);
    });

    it('answers a 4xx (never 5xx) for an id longer than the router accepts', async () => {
      const { tokens } = await signUp(t);
      const response = await deleteSession(t, tokens.access_token, 'x'.repeat(500));
      // Fastify refuses path parameters over 100 characters with 414.
      expect(response.status).toBeGreaterThanOrEqual(400);
      expect(response.status).toBeLessThan(500);
    });

    it('answers 404 for a session already revoked', async () => {
      const { email } = await register(t);
      const laptop = await loginFrom(t, email, 'Work laptop', 'UA laptop');
      const phone = await loginFrom(t, email, 'Phone', 'UA phone');
      await deleteSession(t, laptop.access_token, phone.session_id).expect(204);
      await deleteSession(t, laptop.access_token, phone.session_id).expect(404);

      const loggedOut = await login(t, email);
      await t
        .http()
        .post('/auth/logout')
        .send({ refresh_token: loggedOut.refresh_token })
        .expect(204);
      await deleteSession(t, laptop.access_token, loggedOut.session_id).expect(404);
    });

    it('answers 401 without a bearer token', async () => {
      const { tokens } = await signUp(t);
      await t.http().delete(`/auth/sessions/${tokens.session_id}`).expect(401);
      await expectAlive(t, tokens);
    });
  });

  describe('POST /auth/logout-all', () => {
    it('ends every session of the user and no other user’s', async () => {
      const { email } = await register(t);
      const sessions = [await login(t, email), await login(t, email), await login(t, email)];
      const stranger = await signUp(t);

      const response = await t
        .http()
        .post('/auth/logout-all')
        .set('Authorization', `Bearer ${sessions[0].access_token}`);
      expect(response.status).toBe(204);

      for (const tokens of sessions) await expectDead(t, tokens);
      await expectAlive(t, stranger.tokens);
      // A fresh login still works.
      await login(t, email);
    });

    it('answers 401 without a bearer token', async () => {
      const response = await t.http().post('/auth/logout-all');
      expect(response.status).toBe(401);
      expect(response.headers['www-authenticate']).toBe('Bearer');
    });
  });

  describe('POST /auth/password', () => {
    const NEW_PASSWORD = 'a brand new passphrase';

    it('changes the password, keeps the calling session and ends every other one', async () => {
      const { email } = await register(t);
      const caller = await login(t, email);
      const others = [await login(t, email), await login(t, email)];
      const stranger = await signUp(t);

      const response = await changePassword(t, caller.access_token, {
        currentPassword: PASSWORD,
        newPassword: NEW_PASSWORD,
      });
      expect(response.status).toBe(204);

      await expectAlive(t, caller);
      for (const tokens of others) await expectDead(t, tokens);
      await expectAlive(t, stranger.tokens);

      await t.http().post('/auth/login').send({ email, password: PASSWORD }).expect(401);
      await login(t, email, NEW_PASSWORD);
    });

    it('answers 403 for a wrong current password and changes nothing', async () => {
      const { email } = await register(t);
      const caller = await login(t, email);
      const other = await login(t, email);

      const response = await changePassword(t, caller.access_token, {
        currentPassword: 'not the password',
        newPassword: NEW_PASSWORD,
      });
      expect(response.status).toBe(403);

      await expectAlive(t, caller);
      await expectAlive(t, other);
      await login(t, email, PASSWORD);
      await t.http().post('/auth/login').send({ email, password: NEW_PASSWORD }).expect(401);
    });

    it('answers 400 naming newPassword when it is shorter than 8 characters', async () => {
      const { email, tokens } = await signUp(t);
      const response = await changePassword(t, tokens.access_token, {
        currentPassword: PASSWORD,
        newPassword: 'short',
      });
      expect(response.status).toBe(400);
      expect(
        (response.body.message as string[]).some((message) => message.includes('newPassword')),
      ).toBe(true);
      await login(t, email, PASSWORD);
    });

    it('answers 400 naming an unknown field', async () => {
      const { email, tokens } = await signUp(t);
      const response = await changePassword(t, tokens.access_token, {
        currentPassword: PASSWORD,
        newPassword: NEW_PASSWORD,
        userId: randomUUID(),
      });
      expect(response.status).toBe(400);
      expect(
        (response.body.message as string[]).some((message) => message.includes('userId')),
      ).toBe(true);
      await login(t, email, PASSWORD);
    });

    it('answers 401 without a bearer token', async () => {
      const response = await t
        .http()
        .post('/auth/password')
        .send({ currentPassword: PASSWORD, newPassword: NEW_PASSWORD });
      expect(response.status).toBe(401);
      expect(response.headers['www-authenticate']).toBe('Bearer');
    });
  });
});

describe('sessions: expiresAt is the nearer of the absolute and the idle end', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ AUTH_REFRESH_TTL: '100', AUTH_REFRESH_IDLE_TTL: '50' });
  });
  afterAll(() => t.close());

  it('reports lastUsedAt + 50 s while the idle end is nearer', async () => {
    const { tokens } = await signUp(t);
    const [session] = (await listSessions(t, tokens.access_token).expect(200)).body;
    const idleEnd = Date.parse(session.lastUsedAt) + 50_000;
    expect(Math.abs(Date.parse(session.expiresAt) - idleEnd)).toBeLessThanOrEqual(2000);
    // The absolute end (createdAt + 100 s) is further away.
    expect(Date.parse(session.createdAt) + 100_000).toBeGreaterThan(Date.parse(session.expiresAt));
  });
});

describe('sessions: access tokens never outlive their session', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ AUTH_REFRESH_TTL: '60' });
  });
  afterAll(() => t.close());

  it('caps expires_in and exp - iat at the session’s 60 s lifetime', async () => {
    const { tokens } = await signUp(t);
    expect(tokens.expires_in).toBeLessThanOrEqual(60);
    expect(tokens.expires_in).toBeGreaterThan(0);
    expect(tokens.refresh_token_expires_in).toBeLessThanOrEqual(60);
    const { payload } = decodeJwt(tokens.access_token);
    expect(payload.exp - payload.iat).toBeLessThanOrEqual(60);

    const refreshed = (await refresh(t, tokens.refresh_token).expect(200)).body as TokenPair;
    expect(refreshed.expires_in).toBeLessThanOrEqual(60);
    const claims = decodeJwt(refreshed.access_token).payload;
    expect(claims.exp - claims.iat).toBeLessThanOrEqual(60);
  });
});
