import type { INestApplication } from '@nestjs/common';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DataSource } from 'typeorm';
import { seedAccount } from '../src/accounts/seed-account';
import {
  createTestApp,
  http,
  login,
  PASSWORD,
  refreshCookie,
  register,
  type TokenResponse,
  uniqueEmail,
} from './support';

function decodePayload(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString()) as Record<
    string,
    unknown
  >;
}

describe('nest-token-auth in the host: login, refresh, cookies, roles, logout', () => {
  let app: INestApplication;

  before(async () => {
    app = await createTestApp();
  });
  after(async () => {
    await app?.close();
  });

  it('registers through the module into the host accounts table', async () => {
    const email = uniqueEmail('Register');
    const response = await http(app)
      .post('/auth/register')
      .send({ email, password: PASSWORD, name: 'Ada' });
    assert.equal(response.status, 201);
    assert.deepEqual(Object.keys(response.body as object).sort(), [
      'createdAt',
      'email',
      'id',
      'name',
      'roles',
    ]);
    const rows: unknown = await app
      .get(DataSource)
      .query('SELECT email, display_name, password_hash FROM accounts WHERE id = $1', [
        (response.body as { id: string }).id,
      ]);
    const [row] = rows as { email: string; display_name: string; password_hash: string }[];
    assert.equal(row.email, email.toLowerCase());
    assert.equal(row.display_name, 'Ada');
    assert.match(row.password_hash, /^\$argon2id\$/);

    await http(app).post('/auth/register').send({ email, password: PASSWORD }).expect(409);
  });

  it('logs in and hands the current user to a guarded host route', async () => {
    const { id, email } = await register(app);
    const tokens = await login(app, email);
    assert.equal(tokens.token_type, 'Bearer');
    assert.ok(tokens.refresh_token);
    assert.equal(decodePayload(tokens.access_token).sub, id);

    const mine = await http(app)
      .get('/orders/mine')
      .set('Authorization', `Bearer ${tokens.access_token}`);
    assert.equal(mine.status, 200);
    assert.deepEqual(mine.body, { userId: id, roles: [] });

    const me = await http(app)
      .get('/auth/me')
      .set('Authorization', `Bearer ${tokens.access_token}`);
    assert.equal(me.status, 200);
    assert.equal((me.body as { email: string }).email, email.toLowerCase());
  });

  it('answers 401 with the RFC 6750 challenge without a valid token or password', async () => {
    const missing = await http(app).get('/orders/mine');
    assert.equal(missing.status, 401);
    assert.equal(missing.headers['www-authenticate'], 'Bearer');

    const bad = await http(app).get('/orders/mine').set('Authorization', 'Bearer not.a.token');
    assert.equal(bad.status, 401);
    assert.equal(bad.headers['www-authenticate'], 'Bearer error="invalid_token"');

    const { email } = await register(app);
    await http(app).post('/auth/login').send({ email, password: 'wrong password' }).expect(401);
  });

  it('rotates the refresh token; presenting the rotated one ends the session', async () => {
    const { email } = await register(app);
    const first = await login(app, email);
    const refreshed = await http(app)
      .post('/auth/refresh')
      .send({ refresh_token: first.refresh_token });
    assert.equal(refreshed.status, 200);
    assert.equal(refreshed.headers['cache-control'], 'no-store');
    const second = refreshed.body as TokenResponse;
    assert.notEqual(second.refresh_token, first.refresh_token);
    assert.equal(second.session_id, first.session_id);

    // The old token again: reuse (the grace is 0 here), the whole session ends.
    await http(app).post('/auth/refresh').send({ refresh_token: first.refresh_token }).expect(401);
    await http(app).post('/auth/refresh').send({ refresh_token: second.refresh_token }).expect(401);
    await http(app)
      .get('/orders/mine')
      .set('Authorization', `Bearer ${second.access_token}`)
      .expect(401);
  });

  it('carries the refresh token in an HttpOnly cookie with Auth-Transport: cookie', async () => {
    const { email } = await register(app);
    const loggedIn = await http(app)
      .post('/auth/login')
      .set('Auth-Transport', 'cookie')
      .send({ email, password: PASSWORD });
    assert.equal(loggedIn.status, 200);
    assert.equal((loggedIn.body as TokenResponse).refresh_token, undefined);
    const cookie = refreshCookie(loggedIn);
    assert.ok(cookie, 'login sets the refresh cookie');
    assert.ok(cookie.value.length >= 43);
    for (const attribute of ['HttpOnly', 'Secure', 'SameSite=Strict', 'Path=/auth']) {
      assert.ok(cookie.attributes.includes(attribute), `cookie has ${attribute}`);
    }

    // Without the header the cookie is not read (the CSRF defence).
    await http(app)
      .post('/auth/refresh')
      .set('Cookie', `refresh_token=${cookie.value}`)
      .send({})
      .expect(401);

    const refreshed = await http(app)
      .post('/auth/refresh')
      .set('Auth-Transport', 'cookie')
      .set('Cookie', `refresh_token=${cookie.value}`);
    assert.equal(refreshed.status, 200);
    const rotated = refreshCookie(refreshed);
    assert.ok(rotated && rotated.value !== cookie.value, 'refresh sets the rotated cookie');

    const loggedOut = await http(app)
      .post('/auth/logout')
      .set('Auth-Transport', 'cookie')
      .set('Cookie', `refresh_token=${rotated.value}`);
    assert.equal(loggedOut.status, 204);
    const cleared = refreshCookie(loggedOut);
    assert.ok(cleared && cleared.value === '', 'logout clears the cookie');
    await http(app)
      .post('/auth/refresh')
      .set('Auth-Transport', 'cookie')
      .set('Cookie', `refresh_token=${rotated.value}`)
      .expect(401);
  });

  it('answers 403 on a @Roles route without the role, 200 for a seeded manager', async () => {
    const { email } = await register(app);
    const user = await login(app, email);
    const forbidden = await http(app)
      .get('/orders/report')
      .set('Authorization', `Bearer ${user.access_token}`);
    assert.equal(forbidden.status, 403);

    const managerEmail = uniqueEmail('manager');
    const manager = await seedAccount(app, {
      email: managerEmail,
      password: PASSWORD,
      roles: ['manager'],
    });
    const tokens = await login(app, managerEmail);
    assert.deepEqual(decodePayload(tokens.access_token).roles, ['manager']);
    const report = await http(app)
      .get('/orders/report')
      .set('Authorization', `Bearer ${tokens.access_token}`);
    assert.equal(report.status, 200);
    assert.deepEqual(report.body, { report: 'all orders', managerId: manager.id });
  });

  it('lets anyone reach a @Public route and tells it the caller when there is one', async () => {
    const anonymous = await http(app).get('/status');
    assert.equal(anonymous.status, 200);
    assert.deepEqual(anonymous.body, { status: 'up', userId: null });

    const { id, email } = await register(app);
    const tokens = await login(app, email);
    const signedIn = await http(app)
      .get('/status')
      .set('Authorization', `Bearer ${tokens.access_token}`);
    assert.deepEqual(signedIn.body, { status: 'up', userId: id });
  });

  it('ends the session on logout: its refresh and access tokens stop working', async () => {
    const { email } = await register(app);
    const tokens = await login(app, email);
    await http(app).post('/auth/logout').send({ refresh_token: tokens.refresh_token }).expect(204);
    await http(app).post('/auth/refresh').send({ refresh_token: tokens.refresh_token }).expect(401);
    await http(app)
      .get('/orders/mine')
      .set('Authorization', `Bearer ${tokens.access_token}`)
      .expect(401);
    // Idempotent.
    await http(app).post('/auth/logout').send({ refresh_token: tokens.refresh_token }).expect(204);

    const other = await login(app, email);
    await http(app)
      .post('/auth/logout')
      .set('Authorization', `Bearer ${other.access_token}`)
      .expect(204);
    await http(app).post('/auth/refresh').send({ refresh_token: other.refresh_token }).expect(401);
  });
});
