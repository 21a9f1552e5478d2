import type { Response } from 'supertest';
import { AppModule } from '../src/app.module';
import { ConfigurationError } from '../src/config/env.validation';
import { PASSWORD, register } from './support/auth-client';
import { createTestApp, TEST_ENV, type TestApp } from './support/test-app';

/**
 * Issue 5, point 3: helmet's default headers, no X-Powered-By, a request id on every response,
 * and CORS only for the origins in AUTH_CORS_ORIGINS (with credentials, for the cookie
 * transport).
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const APP_ORIGIN = 'https://app.example.com';
const ADMIN_ORIGIN = 'https://admin.example.com';
const EVIL_ORIGIN = 'https://evil.example';

function expectHelmetHeaders(response: Response): void {
  const headers = response.headers;
  expect(headers['x-content-type-options']).toBe('nosniff');
  expect(headers['content-security-policy']).toMatch(/(^|;)\s*default-src 'self'(;|$)/);
  expect(headers['strict-transport-security']).toMatch(/max-age=[1-9]\d*/);
  expect(headers['x-frame-options']).toMatch(/^(DENY|SAMEORIGIN)$/);
  expect(headers['referrer-policy']).toBe('no-referrer');
  expect(headers['x-powered-by']).toBeUndefined();
}

/**
 * What makes a browser refuse the cross-origin read. (@fastify/cors sends
 * Access-Control-Allow-Credentials: true whatever the origin; without Allow-Origin it grants
 * nothing.)
 */
function expectNoCors(response: Response): void {
  expect(response.headers['access-control-allow-origin']).toBeUndefined();
}

function preflight(t: TestApp, origin: string) {
  return t
    .http()
    .options('/auth/refresh')
    .set('Origin', origin)
    .set('Access-Control-Request-Method', 'POST')
    .set('Access-Control-Request-Headers', 'auth-transport,content-type');
}

/** A login refused (no such user) sent from `origin`. */
function refusedLoginFrom(t: TestApp, origin: string) {
  return t
    .http()
    .post('/auth/login')
    .set('Origin', origin)
    .send({ email: 'nobody@example.com', password: PASSWORD });
}

describe('security headers and request ids', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it('sends helmet headers and no X-Powered-By on a JSON route', async () => {
    const response = await t.http().get('/demo/public');
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expectHelmetHeaders(response);
  });

  it('sends them on error answers too (401, 404, 400)', async () => {
    const responses = [
      await t.http().get('/auth/me'),
      await t.http().get('/no/such/route'),
      await t.http().post('/auth/login').set('Content-Type', 'application/json').send('{"email":'),
    ];
    expect(responses.map((response) => response.status)).toEqual([401, 404, 400]);
    for (const response of responses) expectHelmetHeaders(response);
  });

  it('sends an X-Request-Id on every response, a new one for each request', async () => {
    const responses = [
      await t.http().get('/demo/public'),
      await t.http().get('/demo/public'),
      await t.http().get('/health'),
      await t.http().get('/auth/me'),
      await t.http().get('/no/such/route'),
      await t.http().post('/auth/login').set('Content-Type', 'application/json').send('{"email":'),
      await t
        .http()
        .post('/auth/login')
        .send({ email: 'a@example.com', password: 'x'.repeat(20_000) }),
    ];
    expect(responses.map((response) => response.status)).toEqual([
      200, 200, 200, 401, 404, 400, 413,
    ]);
    const ids = responses.map((response) => response.headers['x-request-id']);
    for (const id of ids) expect(id).toMatch(UUID);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it.each([
    ['a plain id', 'test-req-42'],
    ['dots and underscores', 'abc.DEF_123-x'],
    ['64 characters', 'a'.repeat(64)],
  ])('echoes a sane incoming X-Request-Id (%s)', async (_name, id) => {
    const response = await t.http().get('/demo/public').set('X-Request-Id', id);
    expect(response.status).toBe(200);
    expect(response.headers['x-request-id']).toBe(id);
  });

  it('echoes a sane X-Request-Id on an error answer too', async () => {
    const response = await t.http().get('/auth/me').set('X-Request-Id', 'error-path-7');
    expect(response.status).toBe(401);
    expect(response.headers['x-request-id']).toBe('error-path-7');
  });

  it.each([
    ['200 characters', 'a'.repeat(200)],
    ['65 characters', 'b'.repeat(65)],
    ['spaces', 'has some spaces'],
    ['a quote and angle brackets', '"><script>'],
    ['a slash', '../../etc/passwd'],
    ['non-ASCII', 'id-é'],
  ])('replaces an insane incoming X-Request-Id (%s) with a new one', async (_name, id) => {
    const response = await t.http().get('/demo/public').set('X-Request-Id', id);
    expect(response.status).toBe(200);
    expect(response.headers['x-request-id']).toMatch(UUID);
  });
});

describe('CORS without AUTH_CORS_ORIGINS', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it.each([APP_ORIGIN, EVIL_ORIGIN, 'null', 'http://localhost:3000'])(
    'grants no origin (%s): no Access-Control-Allow-Origin on a preflight or a request',
    async (origin) => {
      const options = await preflight(t, origin);
      expect(options.status).toBeLessThan(500);
      expectNoCors(options);
      expect(options.headers['access-control-allow-headers']).toBeUndefined();

      const get = await t.http().get('/demo/public').set('Origin', origin);
      expect(get.status).toBe(200);
      expectNoCors(get);

      const post = await refusedLoginFrom(t, origin);
      expect(post.status).toBe(401);
      expectNoCors(post);
    },
  );
});

describe('CORS with AUTH_CORS_ORIGINS', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ AUTH_CORS_ORIGINS: `${APP_ORIGIN},${ADMIN_ORIGIN}` });
  });
  afterAll(() => t.close());

  it.each([APP_ORIGIN, ADMIN_ORIGIN])(
    'answers a preflight from an allowed origin (%s) with that origin, credentials and Auth-Transport',
    async (origin) => {
      const response = await preflight(t, origin);
      expect(response.status).toBeGreaterThanOrEqual(200);
      expect(response.status).toBeLessThan(300);
      expect(response.headers['access-control-allow-origin']).toBe(origin);
      expect(response.headers['access-control-allow-credentials']).toBe('true');
      const allowedHeaders = String(response.headers['access-control-allow-headers'] ?? '')
        .split(',')
        .map((header) => header.trim().toLowerCase());
      expect(allowedHeaders).toEqual(expect.arrayContaining(['auth-transport', 'content-type']));
      expect(String(response.headers['access-control-allow-methods'])).toMatch(/\bPOST\b/);
      expect(response.headers['vary']).toMatch(/\bOrigin\b/i);
    },
  );

  // Nest 12's FastifyAdapter answers preflights in its own first onRequest hook: the id is set onSend.
  it('sends an X-Request-Id on a preflight answer too', async () => {
    const response = await preflight(t, APP_ORIGIN).set('X-Request-Id', 'preflight-1');
    expect(response.status).toBe(204);
    expect(response.headers['x-request-id']).toBe('preflight-1');
  });

  it.each([EVIL_ORIGIN, 'https://app.example.com.evil.example', 'http://app.example.com', 'null'])(
    'grants nothing to another origin (%s)',
    async (origin) => {
      const options = await preflight(t, origin);
      expect(options.status).toBeLessThan(500);
      expectNoCors(options);

      const post = await refusedLoginFrom(t, origin);
      expect(post.status).toBe(401);
      expectNoCors(post);
    },
  );

  it('puts the CORS headers on an actual POST from an allowed origin (cookie-transport login)', async () => {
    const { email } = await register(t);
    const response = await t
      .http()
      .post('/auth/login')
      .set('Origin', APP_ORIGIN)
      .set('Auth-Transport', 'cookie')
      .send({ email, password: PASSWORD });
    expect(response.status).toBe(200);
    expect(response.headers['access-control-allow-origin']).toBe(APP_ORIGIN);
    expect(response.headers['access-control-allow-credentials']).toBe('true');
    expect(response.headers['vary']).toMatch(/\bOrigin\b/i);
    expect(response.headers['set-cookie']).toEqual([expect.stringMatching(/^refresh_token=/)]);
    expect(response.body.refresh_token).toBeUndefined();
    expectHelmetHeaders(response);
  });

  it('puts the CORS headers on an error answer to an allowed origin (the browser can read it)', async () => {
    const response = await t
      .http()
      .post('/auth/refresh')
      .set('Origin', ADMIN_ORIGIN)
      .set('Auth-Transport', 'cookie')
      .send({});
    expect(response.status).toBe(401);
    expect(response.headers['access-control-allow-origin']).toBe(ADMIN_ORIGIN);
    expect(response.headers['access-control-allow-credentials']).toBe('true');
  });
});

describe('invalid AUTH_CORS_ORIGINS', () => {
  it.each([
    'app.example.com',
    '*',
    'https://app.example.com,*',
    'https://app.example.com/',
    'ftp://app.example.com',
  ])('%s: AppModule.forRoot throws a ConfigurationError naming AUTH_CORS_ORIGINS', (value) => {
    let thrown: unknown;
    try {
      AppModule.forRoot({ ...TEST_ENV, AUTH_CORS_ORIGINS: value });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigurationError);
    expect((thrown as Error).message).toContain('AUTH_CORS_ORIGINS');
  });

  it('accepts a valid list (the control for the cases above)', () => {
    expect(() =>
      AppModule.forRoot({ ...TEST_ENV, AUTH_CORS_ORIGINS: `${APP_ORIGIN}, ${ADMIN_ORIGIN}` }),
    ).not.toThrow();
  });
});
