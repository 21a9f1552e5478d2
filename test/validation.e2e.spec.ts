import type { Response } from 'supertest';
import { PASSWORD, register, signUp, uniqueEmail } from './support/auth-client';
import { createTestApp, type TestApp } from './support/test-app';

/** What must never appear in an error body: stack frames, driver errors, SQL, hashes. */
const LEAKS = [
  /\bat .+:\d+:\d+/, // a stack frame
  /"stack"/,
  /node_modules|\/src\/|\.ts:\d+/,
  /QueryFailedError|TypeORMError|PGlite|PostgresError|duplicate key|violates/i,
  /\b(SELECT|INSERT|UPDATE|DELETE)\b.*\b(FROM|INTO|SET|WHERE)\b/i,
  /\bSELECT\b|\bINSERT INTO\b/,
  /argon2|\$argon/i,
];

function expectNoLeak(response: Response): void {
  const text = response.text ?? '';
  for (const pattern of LEAKS) expect(text).not.toMatch(pattern);
}

/** A 400 from the validation pipe whose messages mention `field`. */
function expectFieldError(response: Response, field: string): void {
  expect(response.status).toBe(400);
  expect(response.body).toEqual({
    statusCode: 400,
    error: 'Bad Request',
    message: expect.any(Array),
  });
  const messages = response.body.message as string[];
  expect(messages.length).toBeGreaterThan(0);
  expect(messages.some((message) => message.includes(field))).toBe(true);
  expectNoLeak(response);
}

const valid = () => ({ email: uniqueEmail('valid'), password: PASSWORD });

/** Invalid credential bodies shared by register and login: [case, body, field named]. */
const badCredentials: [string, Record<string, unknown>, string][] = [
  ['missing email', { password: PASSWORD }, 'email'],
  ['an empty email', { email: '', password: PASSWORD }, 'email'],
  ['a malformed email', { email: 'not-an-email', password: PASSWORD }, 'email'],
  ['an email without a domain', { email: 'ann@', password: PASSWORD }, 'email'],
  ['a number as email', { email: 42, password: PASSWORD }, 'email'],
  ['an array as email', { email: ['a@example.com'], password: PASSWORD }, 'email'],
  ['an object as email', { email: { $ne: null }, password: PASSWORD }, 'email'],
  ['null as email', { email: null, password: PASSWORD }, 'email'],
  [
    'an email over 254 characters',
    { email: `${'a'.repeat(64)}@${'b'.repeat(190)}.com`, password: PASSWORD },
    'email',
  ],
  ['missing password', { email: 'ann@example.com' }, 'password'],
  ['a password of 7 characters', { email: 'ann@example.com', password: '1234567' }, 'password'],
  ['an empty password', { email: 'ann@example.com', password: '' }, 'password'],
  [
    'a password of 129 characters',
    { email: 'ann@example.com', password: 'p'.repeat(129) },
    'password',
  ],
  ['a number as password', { email: 'ann@example.com', password: 12345678 }, 'password'],
  [
    'an array as password',
    { email: 'ann@example.com', password: ['correct horse battery'] },
    'password',
  ],
  ['an unknown field', { email: 'ann@example.com', password: PASSWORD, isAdmin: true }, 'isAdmin'],
  ['a roles field', { email: 'ann@example.com', password: PASSWORD, roles: ['admin'] }, 'roles'],
];

describe('input validation and error bodies', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  describe('POST /auth/register', () => {
    it.each(badCredentials)('answers 400 naming the field for %s', async (_case, body, field) => {
      const response = await t.http().post('/auth/register').send(body);
      expectFieldError(response, field);
    });

    it.each([
      ['a name of 101 characters', 'n'.repeat(101)],
      ['a number as name', 7],
      ['an object as name', { first: 'Ann' }],
    ])('answers 400 naming the field for %s', async (_case, name) => {
      const response = await t
        .http()
        .post('/auth/register')
        .send({ ...valid(), name });
      expectFieldError(response, 'name');
    });

    it('names every invalid field at once', async () => {
      const response = await t
        .http()
        .post('/auth/register')
        .send({ email: 'nope', password: 'short', name: 'n'.repeat(101), isAdmin: true });
      expectFieldError(response, 'email');
      const messages = (response.body.message as string[]).join('\n');
      for (const field of ['password', 'name', 'isAdmin']) expect(messages).toContain(field);
    });

    it('creates no user when it rejects the body', async () => {
      const email = uniqueEmail('rejected');
      await t
        .http()
        .post('/auth/register')
        .send({ email, password: PASSWORD, isAdmin: true })
        .expect(400);
      const rows: unknown[] = await t.dataSource.query('SELECT id FROM users WHERE email = $1', [
        email,
      ]);
      expect(rows).toEqual([]);
      // The email is still free.
      await t.http().post('/auth/register').send({ email, password: PASSWORD }).expect(201);
    });

    it.each([
      ['a password of exactly 8 characters', 'p'.repeat(8)],
      ['a password of exactly 128 characters', 'p'.repeat(128)],
    ])('accepts %s', async (_case, password) => {
      const response = await t
        .http()
        .post('/auth/register')
        .send({ email: uniqueEmail(), password });
      expect(response.status).toBe(201);
    });

    it('accepts a name of exactly 100 characters', async () => {
      const response = await t
        .http()
        .post('/auth/register')
        .send({ ...valid(), name: 'n'.repeat(100) });
      expect(response.status).toBe(201);
      expect(response.body.name).toBe('n'.repeat(100));
    });
  });

  describe('POST /auth/login', () => {
    it.each(badCredentials)('answers 400 naming the field for %s', async (_case, body, field) => {
      const response = await t.http().post('/auth/login').send(body);
      expectFieldError(response, field);
    });

    it.each([
      ['a device of 101 characters', 'd'.repeat(101)],
      ['a number as device', 7],
    ])('answers 400 naming the field for %s', async (_case, device) => {
      const { email } = await register(t);
      const response = await t
        .http()
        .post('/auth/login')
        .send({ email, password: PASSWORD, device });
      expectFieldError(response, 'device');
    });

    it('rejects an unknown field even with correct credentials, without starting a session', async () => {
      const { email, id } = await register(t);
      const response = await t
        .http()
        .post('/auth/login')
        .send({ email, password: PASSWORD, isAdmin: true });
      expectFieldError(response, 'isAdmin');
      expect(response.body).not.toHaveProperty('access_token');
      const sessions: unknown[] = await t.dataSource.query(
        'SELECT id FROM auth_sessions WHERE user_id = $1',
        [id],
      );
      expect(sessions).toEqual([]);
    });
  });

  describe('request bodies the JSON parser or the body limit refuse', () => {
    it.each(['/auth/register', '/auth/login', '/auth/refresh', '/auth/logout'])(
      'answers 400 to malformed JSON on %s',
      async (path) => {
        const response = await t
          .http()
          .post(path)
          .set('Content-Type', 'application/json')
          .send('{"email": "ann@example.com", "password": ');
        expect(response.status).toBe(400);
        expect(response.body.statusCode).toBe(400);
        expect(typeof response.body.message).toBe('string');
        expectNoLeak(response);
      },
    );

    it('answers 400 to a JSON body with a __proto__ key', async () => {
      const response = await t
        .http()
        .post('/auth/register')
        .set('Content-Type', 'application/json')
        .send(`{"email":"${uniqueEmail()}","password":"${PASSWORD}","__proto__":{"isAdmin":true}}`);
      expect(response.status).toBe(400);
      expectNoLeak(response);
    });

    it('answers 413 to a body over 16 KiB', async () => {
      const response = await t
        .http()
        .post('/auth/register')
        .send({ ...valid(), name: 'n'.repeat(17 * 1024) });
      expect(response.status).toBe(413);
      expect(response.body.statusCode).toBe(413);
      expectNoLeak(response);
    });

    it('answers 413 to a body over 16 KiB on login and refresh too', async () => {
      const big = 'x'.repeat(16 * 1024 + 1);
      const login = await t
        .http()
        .post('/auth/login')
        .send({ ...valid(), device: big });
      expect(login.status).toBe(413);
      const refreshed = await t.http().post('/auth/refresh').send({ refresh_token: big });
      expect(refreshed.status).toBe(413);
    });

    it('reads a body just under 16 KiB (and rejects its too-long name with 400)', async () => {
      const response = await t
        .http()
        .post('/auth/register')
        .send({ ...valid(), name: 'n'.repeat(15 * 1024) });
      expectFieldError(response, 'name');
    });

    it.each([
      ['an empty array', '[]'],
      [
        'an array of a credentials object',
        `[{"email":"ann@example.com","password":"${PASSWORD}"}]`,
      ],
      ['a string', '"ann@example.com"'],
      ['a number', '42'],
      ['true', 'true'],
      ['null', 'null'],
    ])('answers 400, not 5xx, to a JSON body that is %s', async (_case, json) => {
      for (const path of ['/auth/register', '/auth/login']) {
        const response = await t
          .http()
          .post(path)
          .set('Content-Type', 'application/json')
          .send(json);
        expect({ path, status: response.status }).toEqual({ path, status: 400 });
        expectNoLeak(response);
      }
    });

    it.each([
      ['an empty array', '[]', 400],
      ['an array of a token object', '[{"refresh_token":"abc"}]', 400],
      ['a string', '"abc"', 400],
      ['a number', '42', 400],
      ['null (read as no body)', 'null', 401],
    ])(
      'answers 4xx, not 5xx, on refresh and logout to a JSON body that is %s',
      async (_case, json, status) => {
        for (const path of ['/auth/refresh', '/auth/logout']) {
          const response = await t
            .http()
            .post(path)
            .set('Content-Type', 'application/json')
            .send(json);
          expect({ path, status: response.status }).toEqual({ path, status });
          expect(response.body.statusCode).toBe(status);
          expectNoLeak(response);
        }
      },
    );

    it.each([
      ['application/xml', '<login><email>ann@example.com</email></login>'],
      ['application/octet-stream', 'email=ann@example.com'],
      [
        'multipart/form-data; boundary=x',
        '--x\r\nContent-Disposition: form-data; name="email"\r\n\r\na@b.c\r\n--x--',
      ],
    ])('answers 415 to a %s body', async (contentType, payload) => {
      const response = await t
        .http()
        .post('/auth/login')
        .set('Content-Type', contentType)
        .send(payload);
      expect(response.status).toBe(415);
      expect(response.body.statusCode).toBe(415);
      expectNoLeak(response);
    });

    it('answers 415 to form-encoded credentials (JSON bodies only on /auth/*)', async () => {
      const { email } = await register(t);
      const response = await t
        .http()
        .post('/auth/login')
        .set('Content-Type', 'application/x-www-form-urlencoded')
        .send(`email=${encodeURIComponent(email)}&password=${encodeURIComponent(PASSWORD)}`);
      expect(response.status).toBe(415);
      expect(response.body).not.toHaveProperty('access_token');
    });

    it('answers 415 to a text/plain body (a cross-site form can send one)', async () => {
      const response = await t
        .http()
        .post('/auth/login')
        .set('Content-Type', 'text/plain')
        .send(JSON.stringify({ email: 'ann@example.com', password: PASSWORD }));
      expect(response.status).toBe(415);
      expectNoLeak(response);
    });
  });

  describe('POST /auth/refresh', () => {
    it.each([
      ['a number', 42],
      ['an object', { token: 'x' }],
      ['an array', ['x']],
      ['a boolean', true],
    ])('answers 400 naming refresh_token when it is %s', async (_case, refreshToken) => {
      const response = await t.http().post('/auth/refresh').send({ refresh_token: refreshToken });
      expectFieldError(response, 'refresh_token');
    });

    it('answers 400 naming refresh_token when it is over 512 characters', async () => {
      const response = await t
        .http()
        .post('/auth/refresh')
        .send({ refresh_token: 'a'.repeat(513) });
      expectFieldError(response, 'refresh_token');
    });

    it('answers 400 to an unknown field', async () => {
      const { tokens } = await signUp(t);
      const response = await t
        .http()
        .post('/auth/refresh')
        .send({ refresh_token: tokens.refresh_token, extra: 1 });
      expectFieldError(response, 'extra');
      // Rejected before use: the token still works.
      await t
        .http()
        .post('/auth/refresh')
        .send({ refresh_token: tokens.refresh_token })
        .expect(200);
    });

    it.each([
      ['a garbage string', 'garbage'],
      ['an empty string', ''],
      ['a well-formed but unknown token', 'A'.repeat(43)],
      ['an access token', 'eyJhbGciOiJFUzI1NiJ9.e30.c2ln'],
      ['SQL', "' OR 1=1 --"],
    ])('answers 401 to %s', async (_case, refreshToken) => {
      const response = await t.http().post('/auth/refresh').send({ refresh_token: refreshToken });
      expect(response.status).toBe(401);
      expect(response.body).toEqual({
        statusCode: 401,
        message: expect.any(String),
        error: 'Unauthorized',
      });
      expect(response.body).not.toHaveProperty('access_token');
      expectNoLeak(response);
    });

    it('answers 401 to an empty JSON object', async () => {
      const response = await t.http().post('/auth/refresh').send({});
      expect(response.status).toBe(401);
      expect(response.body.statusCode).toBe(401);
      expectNoLeak(response);
    });

    it('answers 401 to a request with no body at all', async () => {
      const response = await t.http().post('/auth/refresh');
      expect(response.status).toBe(401);
      expect(response.body.statusCode).toBe(401);
      expectNoLeak(response);
    });
  });

  describe('POST /auth/logout', () => {
    it('answers 400 naming refresh_token when it is not a string', async () => {
      const response = await t.http().post('/auth/logout').send({ refresh_token: 42 });
      expectFieldError(response, 'refresh_token');
    });

    it('answers 401 with a Bearer challenge to an empty body and no bearer token', async () => {
      const response = await t.http().post('/auth/logout');
      expect(response.status).toBe(401);
      expect(response.headers['www-authenticate']).toBe('Bearer');
      expectNoLeak(response);
    });

    it('answers 204 to a garbage refresh token (idempotent, reveals nothing)', async () => {
      const response = await t.http().post('/auth/logout').send({ refresh_token: 'garbage' });
      expect(response.status).toBe(204);
    });
  });

  describe('input the database must not choke on', () => {
    it('answers 400 naming the field to a NUL character in the name on register', async () => {
      const response = await t
        .http()
        .post('/auth/register')
        .send({ ...valid(), name: 'Ann\u0000Lee' });
      expectFieldError(response, 'name');
    });

    it('answers 400 naming the field to a NUL character in the device on login', async () => {
      const { email } = await register(t);
      const response = await t
        .http()
        .post('/auth/login')
        .send({ email, password: PASSWORD, device: 'phone\u0000' });
      expectFieldError(response, 'device');
    });

    it('answers 400 naming the field to a NUL character in the email', async () => {
      const response = await t
        .http()
        .post('/auth/register')
        .send({ email: 'ann\u0000@example.com', password: PASSWORD });
      expectFieldError(response, 'email');
    });

    it('answers 201, never 5xx, to a lone surrogate in the name on register', async () => {
      const response = await t
        .http()
        .post('/auth/register')
        .send({ ...valid(), name: 'Ann\ud800' });
      expect(response.status).toBe(201);
      expectNoLeak(response);
    });

    it('answers 401, never 5xx, to a NUL character in the password on login', async () => {
      const { email } = await register(t);
      const response = await t
        .http()
        .post('/auth/login')
        .send({ email, password: `${PASSWORD}\u0000` });
      expect(response.status).toBe(401);
      expectNoLeak(response);
    });
  });

  describe('error bodies', () => {
    it('a 409 for a taken email says so without SQL or driver details', async () => {
      const { email } = await register(t);
      const response = await t.http().post('/auth/register').send({ email, password: PASSWORD });
      expect(response.status).toBe(409);
      expect(response.body).toEqual({
        statusCode: 409,
        message: expect.any(String),
        error: 'Conflict',
      });
      expectNoLeak(response);
    });

    it('a 401 for wrong credentials carries no hash or stack', async () => {
      const { email } = await register(t);
      const response = await t
        .http()
        .post('/auth/login')
        .send({ email, password: 'wrong password' });
      expect(response.status).toBe(401);
      expect(response.body).toEqual({
        statusCode: 401,
        message: 'Invalid email or password',
        error: 'Unauthorized',
      });
      expectNoLeak(response);
    });

    it('a 401 for a bad bearer token carries no stack', async () => {
      const response = await t.http().get('/auth/me').set('Authorization', 'Bearer a.b.c');
      expect(response.status).toBe(401);
      expect(response.body.statusCode).toBe(401);
      expectNoLeak(response);
    });
  });

  describe('unknown routes', () => {
    it.each([
      ['GET', '/nope'],
      ['POST', '/auth/nope'],
      ['GET', '/auth/login'],
      ['DELETE', '/auth/me'],
    ])('answers 404 JSON to %s %s', async (method, path) => {
      const response = await t.http()[method.toLowerCase() as 'get' | 'post' | 'delete'](path);
      expect(response.status).toBe(404);
      expect(response.headers['content-type']).toMatch(/^application\/json/);
      expect(response.body).toEqual({
        statusCode: 404,
        message: expect.any(String),
        error: 'Not Found',
      });
      expectNoLeak(response);
    });
  });
});
