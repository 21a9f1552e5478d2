import { decodeJwt, login, PASSWORD, register, signUp, uniqueEmail } from './support/auth-client';
import { createTestApp, type TestApp } from './support/test-app';

describe('register, login, me and the guarded demo routes', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({
      AUTH_ADMIN_EMAIL: 'Admin@Example.com',
      AUTH_ADMIN_PASSWORD: 'admin password 1',
    });
  });
  afterAll(() => t.close());

  describe('POST /auth/register', () => {
    it('creates a user and answers 201 with the public user', async () => {
      const email = uniqueEmail();
      const response = await t
        .http()
        .post('/auth/register')
        .send({ email, password: PASSWORD, name: 'Ann' });
      expect(response.status).toBe(201);
      expect(response.body).toEqual({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        email,
        name: 'Ann',
        roles: [],
        createdAt: expect.any(String),
      });
      expect(JSON.stringify(response.body)).not.toMatch(/argon2|password/i);
    });

    it('answers 409 for a taken email, whatever its case', async () => {
      const email = uniqueEmail();
      await register(t, email);
      const response = await t
        .http()
        .post('/auth/register')
        .send({ email: `  ${email.toUpperCase()} `, password: PASSWORD });
      expect(response.status).toBe(409);
    });

    it('lets exactly one of two simultaneous registrations of one email win', async () => {
      const email = uniqueEmail();
      const statuses = await Promise.all(
        [email, email.toUpperCase()].map((address) =>
          t.http().post('/auth/register').send({ email: address, password: PASSWORD }),
        ),
      ).then((responses) => responses.map((r) => r.status).sort());
      expect(statuses).toEqual([201, 409]);
    });
  });

  describe('POST /auth/login', () => {
    it('answers the token response with no-store and a well-formed access token', async () => {
      const { email, id } = await register(t);
      const response = await t
        .http()
        .post('/auth/login')
        .send({ email: email.toUpperCase(), password: PASSWORD });
      expect(response.status).toBe(200);
      expect(response.headers['cache-control']).toBe('no-store');
      expect(response.body).toEqual({
        access_token: expect.any(String),
        token_type: 'Bearer',
        expires_in: 900,
        refresh_token: expect.stringMatching(/^[A-Za-z0-9_-]{43,}$/),
        refresh_token_expires_in: 1_209_600,
        session_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      });
      const { header, payload } = decodeJwt(response.body.access_token);
      expect(header).toEqual({ alg: 'ES256', typ: 'at+jwt', kid: expect.any(String) });
      expect(payload).toEqual({
        iss: 'http://localhost:3000',
        aud: 'api',
        sub: id,
        sid: response.body.session_id,
        roles: [],
        jti: expect.any(String),
        iat: expect.any(Number),
        exp: expect.any(Number),
      });
      expect(payload.exp - payload.iat).toBe(900);
    });

    it('answers unknown email, wrong password and disabled user with the same 401', async () => {
      const { email } = await register(t);
      const disabled = await register(t);
      await t.dataSource.query('UPDATE users SET disabled = true WHERE id = $1', [disabled.id]);

      const attempts = [
        { email: uniqueEmail('nobody'), password: PASSWORD },
        { email, password: 'wrong password' },
        { email: disabled.email, password: PASSWORD },
      ];
      const responses = [];
      for (const body of attempts) responses.push(await t.http().post('/auth/login').send(body));
      for (const response of responses) {
        expect(response.status).toBe(401);
        expect(response.body).toEqual(responses[0].body);
      }
      expect(responses[0].body.message).toBe('Invalid email or password');
    });

    it('issues independent sessions for two logins', async () => {
      const { email } = await register(t);
      const first = await login(t, email);
      const second = await login(t, email);
      expect(first.session_id).not.toBe(second.session_id);
    });
  });

  describe('GET /auth/me', () => {
    it('returns the caller', async () => {
      const { email, id, tokens } = await signUp(t);
      const response = await t
        .http()
        .get('/auth/me')
        .set('Authorization', `Bearer ${tokens.access_token}`);
      expect(response.status).toBe(200);
      expect(response.body).toEqual({
        id,
        email,
        name: null,
        roles: [],
        createdAt: expect.any(String),
      });
    });

    it('answers 401 with a bare Bearer challenge without a token', async () => {
      const response = await t.http().get('/auth/me');
      expect(response.status).toBe(401);
      expect(response.headers['www-authenticate']).toBe('Bearer');
    });

    it('answers 401 invalid_token for a bad token', async () => {
      const response = await t.http().get('/auth/me').set('Authorization', 'Bearer not.a.token');
      expect(response.status).toBe(401);
      expect(response.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
    });

    it('does not accept a refresh token as a bearer token', async () => {
      const { tokens } = await signUp(t);
      const response = await t
        .http()
        .get('/auth/me')
        .set('Authorization', `Bearer ${tokens.refresh_token}`);
      expect(response.status).toBe(401);
      expect(response.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
    });
  });

  describe('demo routes', () => {
    it('serves /demo/public to anyone', async () => {
      await t.http().get('/demo/public').expect(200);
    });

    it('serves /demo/private to a signed-in user only', async () => {
      const { id, tokens } = await signUp(t);
      await t.http().get('/demo/private').expect(401);
      const response = await t
        .http()
        .get('/demo/private')
        .set('Authorization', `Bearer ${tokens.access_token}`);
      expect(response.status).toBe(200);
      expect(response.body.userId).toBe(id);
    });

    it('serves /demo/admin to the admin role only (403 otherwise)', async () => {
      const { tokens } = await signUp(t);
      const user = await t
        .http()
        .get('/demo/admin')
        .set('Authorization', `Bearer ${tokens.access_token}`);
      expect(user.status).toBe(403);

      const admin = await login(t, 'admin@example.com', 'admin password 1');
      expect(decodeJwt(admin.access_token).payload.roles).toEqual(['admin']);
      await t
        .http()
        .get('/demo/admin')
        .set('Authorization', `Bearer ${admin.access_token}`)
        .expect(200);
    });
  });

  it('GET /health answers 200 with status ok', async () => {
    const response = await t.http().get('/health');
    expect(response.status).toBe(200);
    expect(response.body.status).toBe('ok');
  });
});
