import type { Response } from 'supertest';
import { loadConfiguration } from '../src/config/configuration';
import { decodeJwt, expectInvalidToken, me, PASSWORD, register } from './support/auth-client';
import { createTestApp, startApp, type TestApp } from './support/test-app';
import { createTestDatabase, type TestDatabase, usingPostgres } from './support/test-database';
import { eventually, sleep } from './support/time';

const ADMIN_EMAIL = 'admin@example.com';
const ADMIN_PASSWORD = 'admin password 1';
const NEW_PASSWORD = 'a brand new passphrase';
/** The operator of an access-token-only service picks a longer access-token lifetime. */
const ACCESS_TTL = 3600;
const OFF = { AUTH_REFRESH_TOKENS: 'off', AUTH_ACCESS_TTL: String(ACCESS_TTL) };

interface AccessOnlyTokens {
  access_token: string;
  session_id: string;
  expires_in: number;
}

/** A token response of access-token-only mode: no refresh token, in the body or a cookie. */
function expectAccessOnly(response: Response, expiresIn = ACCESS_TTL): AccessOnlyTokens {
  expect(response.status).toBe(200);
  expect(response.headers['cache-control']).toBe('no-store');
  expect(response.headers['set-cookie']).toBeUndefined();
  expect(response.body).toEqual({
    access_token: expect.any(String),
    token_type: 'Bearer',
    expires_in: expiresIn,
    session_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
  });
  return response.body as AccessOnlyTokens;
}

async function loginAs(t: TestApp, email: string, password = PASSWORD) {
  return expectAccessOnly(await t.http().post('/auth/login').send({ email, password }));
}

async function signUp(t: TestApp) {
  const user = await register(t);
  return { ...user, tokens: await loginAs(t, user.email) };
}

/** What Nest answers for a route that does not exist. */
function notFound(path: string) {
  return { statusCode: 404, error: 'Not Found', message: `Cannot POST ${path}` };
}

describe('access-token-only mode: AUTH_REFRESH_TOKENS=off', () => {
  let t: TestApp;
  let admin: AccessOnlyTokens;

  beforeAll(async () => {
    t = await createTestApp({
      ...OFF,
      AUTH_ADMIN_EMAIL: ADMIN_EMAIL,
      AUTH_ADMIN_PASSWORD: ADMIN_PASSWORD,
    });
    admin = await loginAs(t, ADMIN_EMAIL, ADMIN_PASSWORD);
  });
  afterAll(() => t.close());

  describe('issuing', () => {
    it('register then login: an access token, a session, and no refresh token stored', async () => {
      const { tokens } = await signUp(t);
      await me(t, tokens.access_token).expect(200);
      expect(decodeJwt(tokens.access_token).payload.sid).toBe(tokens.session_id);
      const [{ sessions }] = await t.dataSource.query(
        'SELECT count(*)::int AS sessions FROM auth_sessions WHERE id = $1',
        [tokens.session_id],
      );
      const [{ refreshTokens }] = await t.dataSource.query(
        'SELECT count(*)::int AS "refreshTokens" FROM auth_refresh_tokens WHERE session_id = $1',
        [tokens.session_id],
      );
      expect({ sessions, refreshTokens }).toEqual({ sessions: 1, refreshTokens: 0 });
    });

    it('sets no cookie with Auth-Transport: cookie', async () => {
      const { email } = await register(t);
      const response = await t
        .http()
        .post('/auth/login')
        .set('Auth-Transport', 'cookie')
        .send({ email, password: PASSWORD });
      expectAccessOnly(response);
    });

    it('answers the OAuth password grant without a refresh token (form and JSON)', async () => {
      const { email } = await register(t);
      const params = { grant_type: 'password', username: email, password: PASSWORD };
      expectAccessOnly(await t.http().post('/oauth/token').type('form').send(params));
      expectAccessOnly(await t.http().post('/oauth/token').send(params));
    });

    it('lasts as long as its access token: the session ends when the token does', async () => {
      const { tokens } = await signUp(t);
      const [session] = (
        await t.http().get('/auth/sessions').set('Authorization', `Bearer ${tokens.access_token}`)
      ).body as { id: string; createdAt: string; expiresAt: string }[];
      expect(session.id).toBe(tokens.session_id);
      const lifetime = Date.parse(session.expiresAt) - Date.parse(session.createdAt);
      expect(lifetime).toBe(ACCESS_TTL * 1000);
      const { exp, iat } = decodeJwt(tokens.access_token).payload;
      expect(exp - iat).toBe(ACCESS_TTL);
    });
  });

  describe('POST /auth/refresh answers 404, as a route that does not exist', () => {
    let unknownRoute: Response;

    beforeAll(async () => {
      unknownRoute = await t.http().post('/auth/no-such-route').send({});
      expect(unknownRoute.body).toEqual(notFound('/auth/no-such-route'));
    });

    it.each<[string, (t: TestApp) => Promise<Response>]>([
      ['no body', (t) => t.http().post('/auth/refresh')],
      ['an empty JSON body', (t) => t.http().post('/auth/refresh').send({})],
      [
        'a well-formed refresh token',
        (t) =>
          t
            .http()
            .post('/auth/refresh')
            .send({ refresh_token: 'A'.repeat(43) }),
      ],
      [
        'unknown fields',
        (t) => t.http().post('/auth/refresh').send({ refresh_token: 1, device_id: [], x: true }),
      ],
      [
        'malformed JSON',
        (t) =>
          t.http().post('/auth/refresh').set('Content-Type', 'application/json').send('{"refresh'),
      ],
      [
        'a form body',
        (t) =>
          t
            .http()
            .post('/auth/refresh')
            .type('form')
            .send({ refresh_token: 'A'.repeat(43) }),
      ],
      [
        'a body over 16 KiB',
        (t) =>
          t
            .http()
            .post('/auth/refresh')
            .send({ refresh_token: 'A'.repeat(20 * 1024) }),
      ],
      [
        'the cookie transport',
        (t) =>
          t
            .http()
            .post('/auth/refresh')
            .set('Auth-Transport', 'cookie')
            .set('Cookie', `refresh_token=${'A'.repeat(43)}`),
      ],
    ])('with %s', async (_case, send) => {
      const response = await send(t);
      expect(response.status).toBe(404);
      expect(response.body).toEqual(notFound('/auth/refresh'));
      expect(response.headers['content-type']).toBe(unknownRoute.headers['content-type']);
    });
  });

  describe('OAuth', () => {
    it('answers grant_type=refresh_token 400 unsupported_grant_type', async () => {
      for (const send of [
        () =>
          t
            .http()
            .post('/oauth/token')
            .type('form')
            .send({
              grant_type: 'refresh_token',
              refresh_token: 'A'.repeat(43),
            }),
        () => t.http().post('/oauth/token').send({ grant_type: 'refresh_token' }),
      ]) {
        const response = await send();
        expect(response.status).toBe(400);
        expect(response.body).toEqual({
          error: 'unsupported_grant_type',
          error_description: 'Supported grants: password',
        });
      }
    });

    it('lists only the password grant in the RFC 8414 metadata', async () => {
      const response = await t.http().get('/.well-known/oauth-authorization-server').expect(200);
      expect(response.body.grant_types_supported).toEqual(['password']);
    });
  });

  describe('every way a session ends stops its access token at once', () => {
    it('logout with the bearer token', async () => {
      const { email, tokens } = await signUp(t);
      const other = await loginAs(t, email);
      await me(t, tokens.access_token).expect(200);
      await t
        .http()
        .post('/auth/logout')
        .set('Authorization', `Bearer ${tokens.access_token}`)
        .expect(204);
      expectInvalidToken(await me(t, tokens.access_token));
      await me(t, other.access_token).expect(200);
    });

    it('logout-all', async () => {
      const { email, tokens } = await signUp(t);
      const other = await loginAs(t, email);
      await me(t, other.access_token).expect(200);
      await t
        .http()
        .post('/auth/logout-all')
        .set('Authorization', `Bearer ${tokens.access_token}`)
        .expect(204);
      expectInvalidToken(await me(t, tokens.access_token));
      expectInvalidToken(await me(t, other.access_token));
    });

    it('DELETE /auth/sessions/:id', async () => {
      const { email, tokens } = await signUp(t);
      const phone = await loginAs(t, email);
      await me(t, phone.access_token).expect(200);
      await t
        .http()
        .delete(`/auth/sessions/${phone.session_id}`)
        .set('Authorization', `Bearer ${tokens.access_token}`)
        .expect(204);
      expectInvalidToken(await me(t, phone.access_token));
      await me(t, tokens.access_token).expect(200);
    });

    it('password change (every other session)', async () => {
      const { email, tokens } = await signUp(t);
      const other = await loginAs(t, email);
      await me(t, other.access_token).expect(200);
      await t
        .http()
        .post('/auth/password')
        .set('Authorization', `Bearer ${tokens.access_token}`)
        .send({ currentPassword: PASSWORD, newPassword: NEW_PASSWORD })
        .expect(204);
      expectInvalidToken(await me(t, other.access_token));
      await me(t, tokens.access_token).expect(200);
    });

    it('admin disable', async () => {
      const { id, tokens } = await signUp(t);
      await me(t, tokens.access_token).expect(200);
      await t
        .http()
        .patch(`/admin/users/${id}`)
        .set('Authorization', `Bearer ${admin.access_token}`)
        .send({ disabled: true })
        .expect(200);
      expectInvalidToken(await me(t, tokens.access_token));
    });

    it('RFC 7009 revocation of the access token', async () => {
      const { tokens } = await signUp(t);
      await t
        .http()
        .post('/oauth/revoke')
        .type('form')
        .send({ token: tokens.access_token })
        .expect(200);
      expectInvalidToken(await me(t, tokens.access_token));
    });
  });
});

describe('access-token-only mode: a session never outlives the session limits', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ ...OFF, AUTH_REFRESH_IDLE_TTL: '2', AUTH_CLOCK_TOLERANCE: '0' });
  });
  afterAll(() => t.close());

  it('caps the access token, and the session, at the inactivity lifetime', async () => {
    const { email } = await register(t);
    const login = () => t.http().post('/auth/login').send({ email, password: PASSWORD });
    // 2 s rather than the hour configured: nothing marks the session as used.
    const first = expectAccessOnly(await login(), 2);
    await sleep(2200);
    expectInvalidToken(await me(t, first.access_token));
    const second = expectAccessOnly(await login(), 2);
    const sessions = (
      await t.http().get('/auth/sessions').set('Authorization', `Bearer ${second.access_token}`)
    ).body as { id: string }[];
    expect(sessions.map((session) => session.id)).toEqual([second.session_id]);
  });
});

describe('access-token-only mode: configuration', () => {
  it('refuses AUTH_REFRESH_TOKENS other than on or off, naming it', () => {
    expect(() => loadConfiguration({ AUTH_REFRESH_TOKENS: 'false' })).toThrow(
      /AUTH_REFRESH_TOKENS/,
    );
  });

  it('reads on, off and unset', () => {
    expect(loadConfiguration({ AUTH_REFRESH_TOKENS: 'off' }).auth.refreshTokens).toBe(false);
    expect(loadConfiguration({ AUTH_REFRESH_TOKENS: 'on' }).auth.refreshTokens).toBe(true);
    expect(loadConfiguration({}).auth.refreshTokens).toBeUndefined();
  });
});

(usingPostgres ? describe : describe.skip)('access-token-only mode: two instances', () => {
  let database: TestDatabase;
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    database = await createTestDatabase();
    a = await startApp(database, OFF);
    b = await startApp(database, OFF);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await database?.drop();
  });

  it('logout on B makes the access token fail on A within 1 s', async () => {
    const { tokens } = await signUp(a);
    await me(a, tokens.access_token).expect(200);
    await b
      .http()
      .post('/auth/logout')
      .set('Authorization', `Bearer ${tokens.access_token}`)
      .expect(204);
    await eventually(async () => (await me(a, tokens.access_token)).status === 401, 1000);
    expectInvalidToken(await me(a, tokens.access_token));
  });
});
