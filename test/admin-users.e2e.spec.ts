import { randomUUID } from 'node:crypto';
import type { Response } from 'supertest';
import {
  decodeJwt,
  getWithBearer,
  login,
  PASSWORD,
  refresh,
  register,
  signUp,
  type TokenPair,
} from './support/auth-client';
import { createTestApp, type TestApp } from './support/test-app';

const ADMIN_EMAIL = 'admin@example.com';
const ADMIN_PASSWORD = 'admin password 1';
const ADMIN_ENV = { AUTH_ADMIN_EMAIL: ADMIN_EMAIL, AUTH_ADMIN_PASSWORD: ADMIN_PASSWORD };

function patchUser(t: TestApp, accessToken: string | null, id: string, body: unknown) {
  const request = t.http().patch(`/admin/users/${encodeURIComponent(id)}`);
  if (accessToken) request.set('Authorization', `Bearer ${accessToken}`);
  return request.send(body as object);
}

/** The session is over: its access token is refused everywhere and its refresh token too. */
async function expectDead(t: TestApp, tokens: TokenPair): Promise<void> {
  await getWithBearer(t, '/auth/me', tokens.access_token).expect(401);
  await getWithBearer(t, '/demo/private', tokens.access_token).expect(401);
  await refresh(t, tokens.refresh_token).expect(401);
}

/** A 400 from the validation pipe whose messages mention `field`. */
function expectFieldError(response: Response, field: string): void {
  expect(response.status).toBe(400);
  expect(response.body).toEqual({
    statusCode: 400,
    error: 'Bad Request',
    message: expect.any(Array),
  });
  expect((response.body.message as string[]).some((message) => message.includes(field))).toBe(true);
}

describe('PATCH /admin/users/:id', () => {
  let t: TestApp;
  let admin: TokenPair;
  let adminId: string;

  beforeAll(async () => {
    t = await createTestApp(ADMIN_ENV);
    admin = await login(t, ADMIN_EMAIL, ADMIN_PASSWORD);
    adminId = decodeJwt(admin.access_token).payload.sub;
  });
  afterAll(() => t.close());

  describe('disabling', () => {
    it('answers 200 with the public user and ends every session of that user at once', async () => {
      const { id, email } = await register(t);
      const sessions = [await login(t, email), await login(t, email)];
      const bystander = await signUp(t);

      const response = await patchUser(t, admin.access_token, id, { disabled: true });
      expect(response.status).toBe(200);
      expect(response.body).toEqual({
        id,
        email,
        name: null,
        roles: [],
        createdAt: expect.any(String),
      });
      expect(JSON.stringify(response.body)).not.toMatch(/passwordHash|password_hash|argon2/i);

      for (const tokens of sessions) await expectDead(t, tokens);
      // Other users are untouched.
      await getWithBearer(t, '/auth/me', bystander.tokens.access_token).expect(200);
      await refresh(t, bystander.tokens.refresh_token).expect(200);
    });

    it('makes login answer 401 with the same body as a wrong password', async () => {
      const { id, email } = await register(t);
      const other = await register(t);
      await patchUser(t, admin.access_token, id, { disabled: true }).expect(200);

      const disabled = await t.http().post('/auth/login').send({ email, password: PASSWORD });
      const wrong = await t
        .http()
        .post('/auth/login')
        .send({ email: other.email, password: 'not the password' });
      expect(disabled.status).toBe(401);
      expect(wrong.status).toBe(401);
      expect(disabled.body).toEqual(wrong.body);
    });

    it('is undone by {disabled: false}: login works again, old sessions stay dead', async () => {
      const { id, email, tokens } = await signUp(t);
      await patchUser(t, admin.access_token, id, { disabled: true }).expect(200);
      await t.http().post('/auth/login').send({ email, password: PASSWORD }).expect(401);

      const response = await patchUser(t, admin.access_token, id, { disabled: false });
      expect(response.status).toBe(200);
      expect(response.body.id).toBe(id);

      const fresh = await login(t, email);
      await getWithBearer(t, '/auth/me', fresh.access_token).expect(200);
      await expectDead(t, tokens);
    });

    it('answers 200 when the user is disabled already', async () => {
      const { id } = await register(t);
      await patchUser(t, admin.access_token, id, { disabled: true }).expect(200);
      await patchUser(t, admin.access_token, id, { disabled: true }).expect(200);
    });

    it('answers 400 when an admin disables themselves, and changes nothing', async () => {
      const response = await patchUser(t, admin.access_token, adminId, { disabled: true });
      expect(response.status).toBe(400);
      await getWithBearer(t, '/auth/me', admin.access_token).expect(200);
      await login(t, ADMIN_EMAIL, ADMIN_PASSWORD);
    });
  });

  describe('roles', () => {
    it('answers 200 with the roles; the next refresh carries them and /demo/admin opens', async () => {
      const { id, tokens } = await signUp(t);
      await getWithBearer(t, '/demo/admin', tokens.access_token).expect(403);

      const response = await patchUser(t, admin.access_token, id, { roles: ['admin', 'editor'] });
      expect(response.status).toBe(200);
      expect(response.body).toEqual(expect.objectContaining({ id, roles: ['admin', 'editor'] }));

      const refreshed = (await refresh(t, tokens.refresh_token).expect(200)).body as TokenPair;
      expect(decodeJwt(refreshed.access_token).payload.roles).toEqual(['admin', 'editor']);
      const demo = await getWithBearer(t, '/demo/admin', refreshed.access_token);
      expect(demo.status).toBe(200);
      expect(demo.body.userId).toBe(id);
    });

    it('replaces the roles: an empty list takes them away from the next refresh on', async () => {
      const { id, tokens } = await signUp(t);
      await patchUser(t, admin.access_token, id, { roles: ['admin'] }).expect(200);
      const promoted = (await refresh(t, tokens.refresh_token).expect(200)).body as TokenPair;
      await getWithBearer(t, '/demo/admin', promoted.access_token).expect(200);

      const response = await patchUser(t, admin.access_token, id, { roles: [] });
      expect(response.body.roles).toEqual([]);
      const demoted = (await refresh(t, promoted.refresh_token).expect(200)).body as TokenPair;
      expect(decodeJwt(demoted.access_token).payload.roles).toEqual([]);
      await getWithBearer(t, '/demo/admin', demoted.access_token).expect(403);
    });
  });

  describe('access', () => {
    it('answers 403 to a bearer without the admin role', async () => {
      const caller = await signUp(t);
      const target = await register(t);
      const response = await patchUser(t, caller.tokens.access_token, target.id, {
        disabled: true,
      });
      expect(response.status).toBe(403);
      // Nothing happened to the target.
      await login(t, target.email);
    });

    it('answers 403 to a bearer with other roles only', async () => {
      const editor = await signUp(t);
      await patchUser(t, admin.access_token, editor.id, { roles: ['editor'] }).expect(200);
      const tokens = (await refresh(t, editor.tokens.refresh_token).expect(200)).body as TokenPair;
      await patchUser(t, tokens.access_token, editor.id, { roles: ['admin'] }).expect(403);
    });

    it('answers 401 without a bearer token', async () => {
      const target = await register(t);
      const response = await patchUser(t, null, target.id, { disabled: true });
      expect(response.status).toBe(401);
      expect(response.headers['www-authenticate']).toBe('Bearer');
      await login(t, target.email);
    });

    it('answers 401 to a revoked admin token', async () => {
      const session = await login(t, ADMIN_EMAIL, ADMIN_PASSWORD);
      await t
        .http()
        .post('/auth/logout')
        .send({ refresh_token: session.refresh_token })
        .expect(204);
      const target = await register(t);
      await patchUser(t, session.access_token, target.id, { disabled: true }).expect(401);
    });
  });

  describe('unknown users', () => {
    it.each([
      ['an unknown uuid', () => randomUUID()],
      ['a non-uuid id', () => 'not-a-uuid'],
      ['an id with SQL', () => "1' OR '1'='1"],
    ])('answers 404 (never 5xx) for %s', async (_case, id) => {
      const response = await patchUser(t, admin.access_token, id(), { disabled: true });
      expect(response.status).toBe(404);
    });
  });

  describe('invalid bodies', () => {
    const cases: [string, unknown, string][] = [
      ['disabled as a string', { disabled: 'yes' }, 'disabled'],
      ['disabled as a number', { disabled: 1 }, 'disabled'],
      ['roles as a string', { roles: 'admin' }, 'roles'],
      ['a number in roles', { roles: [1] }, 'role'],
      ['a role of 51 characters', { roles: [`a${'b'.repeat(50)}`] }, 'role'],
      ['duplicate roles', { roles: ['editor', 'editor'] }, 'roles'],
      ['an unknown field', { disabled: false, email: 'x@example.com' }, 'email'],
    ];

    it.each(cases)('answers 400 naming the field for %s', async (_case, body, field) => {
      const target = await signUp(t);
      const response = await patchUser(t, admin.access_token, target.id, body);
      expectFieldError(response, field);
      // Nothing changed.
      await getWithBearer(t, '/auth/me', target.tokens.access_token).expect(200);
      const refreshed = (await refresh(t, target.tokens.refresh_token).expect(200))
        .body as TokenPair;
      expect(decodeJwt(refreshed.access_token).payload.roles).toEqual([]);
    });

    it('accepts a role of exactly 50 characters', async () => {
      const target = await register(t);
      const role = `a${'b'.repeat(49)}`;
      const response = await patchUser(t, admin.access_token, target.id, { roles: [role] });
      expect(response.status).toBe(200);
      expect(response.body.roles).toEqual([role]);
    });

    // null must not reach the NOT NULL users.disabled / users.roles columns.
    it.each([
      ['disabled: null', { disabled: null }, 'disabled'],
      ['roles: null', { roles: null }, 'roles'],
    ])('answers 400 (never 5xx) for %s', async (_case, body, field) => {
      const target = await register(t);
      const response = await patchUser(t, admin.access_token, target.id, body);
      expectFieldError(response, field);
    });
  });
});

describe('PATCH /admin/users/:id: an admin cannot disable themselves by another spelling', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp(ADMIN_ENV);
  });
  afterAll(() => t.close());

  // The store matches uuids case-insensitively: the check must too.
  it('answers 400 for the admin’s own id in upper case', async () => {
    const admin = await login(t, ADMIN_EMAIL, ADMIN_PASSWORD);
    const adminId: string = decodeJwt(admin.access_token).payload.sub;
    const response = await patchUser(t, admin.access_token, adminId.toUpperCase(), {
      disabled: true,
    });
    expect(response.status).toBe(400);
    await getWithBearer(t, '/auth/me', admin.access_token).expect(200);
  });
});
