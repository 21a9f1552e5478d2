import Redis from 'ioredis';
import { login, PASSWORD, register, uniqueEmail } from './support/auth-client';
import { createTestApp, type TestApp } from './support/test-app';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

describe('per-account failed-login limit (in process)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ AUTH_LOGIN_MAX_FAILURES: '3', AUTH_LOGIN_WINDOW: '60' });
  });
  afterAll(() => t.close());

  it('answers 429 with Retry-After past the limit, even to the right password; other accounts are untouched', async () => {
    const victim = await register(t);
    const bystander = await register(t);
    for (let i = 0; i < 3; i += 1) {
      await t
        .http()
        .post('/auth/login')
        .send({ email: victim.email, password: 'wrong password' })
        .expect(401);
    }
    const locked = await t
      .http()
      .post('/auth/login')
      .send({ email: victim.email, password: PASSWORD });
    expect(locked.status).toBe(429);
    const retryAfter = Number(locked.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(JSON.stringify(locked.body)).not.toContain('access_token');

    // The OAuth password grant shares the counter.
    const oauth = await t
      .http()
      .post('/oauth/token')
      .type('form')
      .send({ grant_type: 'password', username: victim.email, password: PASSWORD });
    expect(oauth.status).toBe(429);
    expect(oauth.headers['retry-after']).toBeDefined();

    await login(t, bystander.email);
  });

  it('counts unknown emails the same way, so a lock reveals nothing', async () => {
    const email = uniqueEmail('ghost');
    for (let i = 0; i < 3; i += 1) {
      await t.http().post('/auth/login').send({ email, password: PASSWORD }).expect(401);
    }
    await t.http().post('/auth/login').send({ email, password: PASSWORD }).expect(429);
  });

  it('resets the count on a successful login', async () => {
    const user = await register(t);
    for (let round = 0; round < 2; round += 1) {
      for (let i = 0; i < 2; i += 1) {
        await t
          .http()
          .post('/auth/login')
          .send({ email: user.email, password: 'wrong password' })
          .expect(401);
      }
      await login(t, user.email);
    }
  });
});

describe('per-IP rate limit on /auth/* and /oauth/*', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ AUTH_RATE_LIMIT: '5' });
  });
  afterAll(() => t.close());

  it('answers 429 with Retry-After past AUTH_RATE_LIMIT per minute, and leaves other routes alone', async () => {
    const responses = [];
    for (let i = 0; i < 7; i += 1) {
      responses.push(
        await t
          .http()
          .post('/auth/refresh')
          .send({ refresh_token: 'x'.repeat(43) }),
      );
    }
    expect(responses.map((response) => response.status)).toEqual([
      401, 401, 401, 401, 401, 429, 429,
    ]);
    expect(Number(responses[6].headers['retry-after'])).toBeGreaterThan(0);
    await t.http().post('/oauth/revoke').type('form').send({ token: 'x' }).expect(429);
    // Not an auth route: not limited.
    for (let i = 0; i < 10; i += 1) await t.http().get('/demo/public').expect(200);
    await t.http().get('/health').expect(200);
  });
});

describe('shared failed-login counters in Redis (two instances)', () => {
  let a: TestApp;
  let b: TestApp;
  let redis: Redis;

  beforeAll(async () => {
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    await redis.ping(); // fails the suite clearly when Redis is not running
    // Windows last a minute: start from empty per-IP counters.
    const stale = await redis.keys('throttle:*');
    if (stale.length) await redis.del(...stale);
    const env = { REDIS_URL, AUTH_LOGIN_MAX_FAILURES: '3', AUTH_RATE_LIMIT: '1000' };
    a = await createTestApp(env);
    b = await createTestApp(env);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await redis?.quit();
  });

  it('locks an account for every instance after failures spread across them', async () => {
    const user = await register(a);
    await a
      .http()
      .post('/auth/login')
      .send({ email: user.email, password: 'wrong password' })
      .expect(401);
    await b
      .http()
      .post('/auth/login')
      .send({ email: user.email, password: 'wrong password' })
      .expect(401);
    await a
      .http()
      .post('/auth/login')
      .send({ email: user.email, password: 'wrong password' })
      .expect(401);
    // b's user table differs from a's (separate databases) but the counter is keyed by email.
    await b.http().post('/auth/login').send({ email: user.email, password: PASSWORD }).expect(429);
    await a.http().post('/auth/login').send({ email: user.email, password: PASSWORD }).expect(429);
    const keys = await redis.keys('login-failures:*');
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.join(' ')).not.toContain(user.email);
  });
});

describe('shared per-IP budget in Redis (two instances)', () => {
  let a: TestApp;
  let b: TestApp;
  let redis: Redis;

  beforeAll(async () => {
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    await redis.ping();
    // Windows last a minute: start from empty per-IP counters.
    const stale = await redis.keys('throttle:*');
    if (stale.length) await redis.del(...stale);
    const env = { REDIS_URL, AUTH_RATE_LIMIT: '6' };
    a = await createTestApp(env);
    b = await createTestApp(env);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    const used = await redis.keys('throttle:*');
    if (used.length) await redis.del(...used);
    await redis?.quit();
  });

  it('shares the per-IP budget: requests spread across both instances hit one limit', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 8; i += 1) {
      const response = await (i % 2 ? a : b)
        .http()
        .post('/oauth/revoke')
        .type('form')
        .send({ token: 'x' });
      statuses.push(response.status);
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200, 429, 429]);
    const keys = await redis.keys('throttle:*');
    expect(keys.length).toBeGreaterThan(0);
  });
});
