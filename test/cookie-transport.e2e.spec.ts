import { createHash } from 'node:crypto';
import { PASSWORD, register, signUp } from './support/auth-client';
import { createTestApp, type TestApp } from './support/test-app';
import { refreshCookie } from './support/cookies';

const TOKEN_BODY_WITHOUT_REFRESH_TOKEN = {
  access_token: expect.any(String),
  token_type: 'Bearer',
  expires_in: 900,
  refresh_token_expires_in: 1_209_600,
  session_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
};

function cookieLogin(t: TestApp, email: string) {
  return t
    .http()
    .post('/auth/login')
    .set('Auth-Transport', 'cookie')
    .send({ email, password: PASSWORD });
}

/** Registers a user and logs in with the cookie transport; returns the cookie value and body. */
async function cookieSignUp(t: TestApp) {
  const { email } = await register(t);
  const response = await cookieLogin(t, email);
  expect(response.status).toBe(200);
  return { email, cookie: refreshCookie(response).value, body: response.body };
}

function cookieRefresh(t: TestApp, cookie: string, withHeader = true) {
  const req = t.http().post('/auth/refresh').set('Cookie', `refresh_token=${cookie}`);
  return withHeader ? req.set('Auth-Transport', 'cookie') : req;
}

function cookieLogout(t: TestApp, cookie: string, withHeader = true) {
  const req = t.http().post('/auth/logout').set('Cookie', `refresh_token=${cookie}`);
  return withHeader ? req.set('Auth-Transport', 'cookie') : req;
}

describe('cookie transport of the refresh token (Auth-Transport: cookie)', () => {
  let t: TestApp;

  beforeAll(async () => {
    // Grace 0: a rotated refresh token is refused at once, so rotation is observable.
    t = await createTestApp({ AUTH_REFRESH_REUSE_GRACE: '0' });
  });
  afterAll(() => t.close());

  describe('POST /auth/login', () => {
    it('puts the refresh token in an HttpOnly, SameSite=Strict cookie on /auth, not in the body', async () => {
      const { email } = await register(t);
      const response = await cookieLogin(t, email);

      expect(response.status).toBe(200);
      expect(response.headers['cache-control']).toBe('no-store');
      expect(response.body).toEqual(TOKEN_BODY_WITHOUT_REFRESH_TOKEN);
      expect(response.body).not.toHaveProperty('refresh_token');

      const cookie = refreshCookie(response);
      expect(cookie.value).toMatch(/^[A-Za-z0-9_-]{43,}$/);
      expect(cookie.attributes.httponly).toBe(true);
      expect(String(cookie.attributes.samesite).toLowerCase()).toBe('strict');
      expect(cookie.attributes.path).toBe('/auth');
      expect(cookie.attributes['max-age']).toBe(String(response.body.refresh_token_expires_in));
      // The test environment sets AUTH_COOKIE_SECURE=false.
      expect(cookie.attributes).not.toHaveProperty('secure');
    });

    it('accepts the header value case-insensitively', async () => {
      const { email } = await register(t);
      const response = await t
        .http()
        .post('/auth/login')
        .set('Auth-Transport', 'Cookie')
        .send({ email, password: PASSWORD });
      expect(response.status).toBe(200);
      expect(response.body).not.toHaveProperty('refresh_token');
      expect(refreshCookie(response).value).toMatch(/^[A-Za-z0-9_-]{43,}$/);
    });

    it('the cookie carries a working refresh token', async () => {
      const { cookie } = await cookieSignUp(t);
      // The cookie value is the refresh token itself: the body transport accepts it too.
      const response = await t.http().post('/auth/refresh').send({ refresh_token: cookie });
      expect(response.status).toBe(200);
      expect(response.body.refresh_token).toMatch(/^[A-Za-z0-9_-]{43,}$/);
    });

    it('sets no cookie with the body transport (no header)', async () => {
      const { email } = await register(t);
      const response = await t.http().post('/auth/login').send({ email, password: PASSWORD });
      expect(response.status).toBe(200);
      expect(response.body.refresh_token).toMatch(/^[A-Za-z0-9_-]{43,}$/);
      expect(response.headers['set-cookie']).toBeUndefined();
    });

    it('sets no cookie when the header asks for another transport', async () => {
      const { email } = await register(t);
      const response = await t
        .http()
        .post('/auth/login')
        .set('Auth-Transport', 'body')
        .send({ email, password: PASSWORD });
      expect(response.status).toBe(200);
      expect(response.body.refresh_token).toMatch(/^[A-Za-z0-9_-]{43,}$/);
      expect(response.headers['set-cookie']).toBeUndefined();
    });

    it('sets no cookie on a failed login', async () => {
      const { email } = await register(t);
      const response = await t
        .http()
        .post('/auth/login')
        .set('Auth-Transport', 'cookie')
        .send({ email, password: 'wrong password' });
      expect(response.status).toBe(401);
      expect(response.headers['set-cookie']).toBeUndefined();
    });
  });

  describe('POST /auth/refresh', () => {
    it('with the cookie and the header answers a new cookie and rotates the old one', async () => {
      const { cookie, body: loginBody } = await cookieSignUp(t);

      const response = await cookieRefresh(t, cookie);
      expect(response.status).toBe(200);
      expect(response.headers['cache-control']).toBe('no-store');
      expect(response.body).toEqual(TOKEN_BODY_WITHOUT_REFRESH_TOKEN);
      expect(response.body).not.toHaveProperty('refresh_token');
      expect(response.body.session_id).toBe(loginBody.session_id);

      const next = refreshCookie(response);
      expect(next.value).toMatch(/^[A-Za-z0-9_-]{43,}$/);
      expect(next.value).not.toBe(cookie);
      expect(next.attributes.httponly).toBe(true);
      expect(String(next.attributes.samesite).toLowerCase()).toBe('strict');
      expect(next.attributes.path).toBe('/auth');
      expect(next.attributes['max-age']).toBe(String(response.body.refresh_token_expires_in));
      expect(next.attributes).not.toHaveProperty('secure');

      // The old value is rotated: presenting it again is refused (grace 0 here).
      const reused = await cookieRefresh(t, cookie);
      expect(reused.status).toBe(401);
      expect(reused.body).not.toHaveProperty('access_token');
      expect(reused.headers['set-cookie']).toBeUndefined();
    });

    it("records the presented token as rotated: the session's chain moves on", async () => {
      const { cookie, body } = await cookieSignUp(t);
      await cookieRefresh(t, cookie).expect(200);
      const rows: { generation: number; previous: Buffer }[] = await t.dataSource.query(
        'SELECT generation, previous_token_hash AS previous FROM auth_sessions WHERE id = $1',
        [body.session_id],
      );
      expect(rows).toHaveLength(1);
      expect(rows[0].generation).toBe(2);
      expect(Buffer.from(rows[0].previous)).toEqual(createHash('sha256').update(cookie).digest());
    });

    it('without the header ignores the cookie: 401 and no rotation', async () => {
      const { cookie } = await cookieSignUp(t);

      const withoutHeader = await cookieRefresh(t, cookie, false);
      expect(withoutHeader.status).toBe(401);
      expect(withoutHeader.body).not.toHaveProperty('access_token');
      expect(withoutHeader.headers['set-cookie']).toBeUndefined();

      // Not rotated: with the header the same cookie still works (a rotated one would not, grace 0).
      const withHeader = await cookieRefresh(t, cookie);
      expect(withHeader.status).toBe(200);
      expect(refreshCookie(withHeader).value).not.toBe(cookie);
    });

    it('with the header but no cookie answers 401', async () => {
      const response = await t.http().post('/auth/refresh').set('Auth-Transport', 'cookie');
      expect(response.status).toBe(401);
      expect(response.headers['set-cookie']).toBeUndefined();
    });

    it('answers 401 for a cookie that is not a refresh token', async () => {
      const response = await cookieRefresh(t, 'A'.repeat(43));
      expect(response.status).toBe(401);
      expect(response.headers['set-cookie']).toBeUndefined();
    });
  });

  describe('POST /auth/logout', () => {
    it('with the cookie and the header answers 204, clears the cookie and ends the session', async () => {
      const { cookie, body } = await cookieSignUp(t);
      await t
        .http()
        .get('/auth/me')
        .set('Authorization', `Bearer ${body.access_token}`)
        .expect(200);

      const response = await cookieLogout(t, cookie);
      expect(response.status).toBe(204);
      expect(response.text).toBe('');

      const cleared = refreshCookie(response);
      expect(cleared.value).toBe('');
      expect(cleared.attributes.path).toBe('/auth');
      const expires = cleared.attributes.expires;
      const maxAge = cleared.attributes['max-age'];
      const expired =
        (typeof expires === 'string' && new Date(expires).getTime() < Date.now()) ||
        (typeof maxAge === 'string' && Number(maxAge) <= 0);
      expect(expired).toBe(true);

      const refreshed = await cookieRefresh(t, cookie);
      expect(refreshed.status).toBe(401);
      expect(refreshed.headers['set-cookie']).toBeUndefined();

      const me = await t.http().get('/auth/me').set('Authorization', `Bearer ${body.access_token}`);
      expect(me.status).toBe(401);
      expect(me.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
    });

    it('marks the session revoked in the database', async () => {
      const { cookie, body } = await cookieSignUp(t);
      await cookieLogout(t, cookie).expect(204);
      const rows: { revoked_reason: string | null }[] = await t.dataSource.query(
        'SELECT revoked_reason FROM auth_sessions WHERE id = $1 AND revoked_at IS NOT NULL',
        [body.session_id],
      );
      expect(rows).toEqual([{ revoked_reason: 'logout' }]);
    });

    it('is idempotent: a second logout with the same cookie answers 204 and clears again', async () => {
      const { cookie } = await cookieSignUp(t);
      await cookieLogout(t, cookie).expect(204);
      const again = await cookieLogout(t, cookie);
      expect(again.status).toBe(204);
      expect(refreshCookie(again).value).toBe('');
    });

    it('without the header ignores the cookie and does not end the session', async () => {
      const { cookie, body } = await cookieSignUp(t);

      const response = await cookieLogout(t, cookie, false);
      expect(response.status).toBe(401);
      expect(response.headers['set-cookie']).toBeUndefined();

      await t
        .http()
        .get('/auth/me')
        .set('Authorization', `Bearer ${body.access_token}`)
        .expect(200);
      const refreshed = await cookieRefresh(t, cookie);
      expect(refreshed.status).toBe(200);
      expect(refreshed.body.session_id).toBe(body.session_id);
    });

    it("without the header ends only the bearer token's session, not the cookie's", async () => {
      const victim = await cookieSignUp(t);
      const caller = await signUp(t);
      const response = await cookieLogout(t, victim.cookie, false).set(
        'Authorization',
        `Bearer ${caller.tokens.access_token}`,
      );
      expect(response.status).toBe(204);
      await cookieRefresh(t, victim.cookie).expect(200);
      await t
        .http()
        .get('/auth/me')
        .set('Authorization', `Bearer ${caller.tokens.access_token}`)
        .expect(401);
    });
  });
});

describe('cookie transport with AUTH_COOKIE_SECURE=true', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ AUTH_COOKIE_SECURE: 'true' });
  });
  afterAll(() => t.close());

  it('marks the refresh cookie Secure on login, refresh and logout', async () => {
    const { email } = await register(t);
    const login = await cookieLogin(t, email);
    expect(login.status).toBe(200);
    const cookie = refreshCookie(login);
    expect(cookie.attributes.secure).toBe(true);
    expect(cookie.attributes.httponly).toBe(true);
    expect(String(cookie.attributes.samesite).toLowerCase()).toBe('strict');
    expect(cookie.attributes.path).toBe('/auth');

    const refreshed = await cookieRefresh(t, cookie.value);
    expect(refreshed.status).toBe(200);
    const next = refreshCookie(refreshed);
    expect(next.attributes.secure).toBe(true);

    const logout = await cookieLogout(t, next.value);
    expect(logout.status).toBe(204);
    expect(refreshCookie(logout).attributes.secure).toBe(true);
  });
});
