import { performance } from 'node:perf_hooks';
import type { Response } from 'supertest';
import { PASSWORD, register, uniqueEmail } from './support/auth-client';
import { createTestApp, type TestApp } from './support/test-app';

/**
 * Issue 5, point 2: no user enumeration. An unknown email, a wrong password and a disabled user
 * get the same answer, byte for byte, in about the same time (an unknown email is verified
 * against a dummy argon2 hash). Registration of a taken email is the documented exception: 409.
 */

/** Headers that legitimately differ between any two responses. */
const PER_RESPONSE = new Set([
  'date',
  'x-request-id',
  'x-ratelimit-remaining',
  'x-ratelimit-reset',
]);
const WARM_UPS = 2;
const SAMPLES = 10;

type Kind = 'unknown email' | 'wrong password' | 'disabled user';

function comparable(response: Response) {
  const headers = Object.fromEntries(
    Object.entries(response.headers).filter(([name]) => !PER_RESPONSE.has(name.toLowerCase())),
  );
  return {
    status: response.status,
    headerNames: Object.keys(response.headers)
      .map((name) => name.toLowerCase())
      .sort(),
    headers,
    body: response.text,
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

describe('no user enumeration', () => {
  let t: TestApp;
  let known: string;
  let credentials: Record<Kind, { email: string; password: string }>;
  const kinds: Kind[] = ['unknown email', 'wrong password', 'disabled user'];

  /** A login of each kind, through the JSON endpoint or the OAuth password grant (form). */
  const jsonLogin = async (kind: Kind): Promise<Response> =>
    await t.http().post('/auth/login').send(credentials[kind]);
  const oauthLogin = async (kind: Kind): Promise<Response> =>
    await t.http().post('/oauth/token').type('form').send({
      grant_type: 'password',
      username: credentials[kind].email,
      password: credentials[kind].password,
    });

  beforeAll(async () => {
    t = await createTestApp();
    // Listening once spares supertest a listen per request: less noise around the timings.
    await t.app.listen(0, '127.0.0.1');
    known = (await register(t)).email;
    const disabled = await register(t);
    await t.dataSource.query('UPDATE users SET disabled = true WHERE id = $1', [disabled.id]);
    credentials = {
      'unknown email': { email: uniqueEmail('nobody'), password: PASSWORD },
      'wrong password': { email: known, password: 'wrong password 123' },
      'disabled user': { email: disabled.email, password: PASSWORD },
    };
  });
  afterAll(() => t.close());

  it('the right password of the enabled user logs in (the control)', async () => {
    const response = await t.http().post('/auth/login').send({ email: known, password: PASSWORD });
    expect(response.status).toBe(200);
  });

  it.each([
    ['POST /auth/login (JSON)', jsonLogin],
    ['POST /oauth/token password grant (form)', oauthLogin],
  ])(
    '%s: unknown email, wrong password and disabled user answer byte-identical bodies and headers',
    async (_name, attempt) => {
      const responses: Response[] = [];
      // Sequential: the per-IP rate-limit counter then falls by exactly one per request.
      for (const kind of kinds) responses.push(await attempt(kind));
      const [first, ...others] = responses.map(comparable);
      expect(first.status).toBeGreaterThanOrEqual(400);
      expect(first.status).toBeLessThan(500);
      for (const other of others) expect(other).toEqual(first);
      // The headers excluded above are there on each, and only what they are said to be.
      for (const response of responses) {
        expect(response.headers['x-request-id']).toEqual(expect.any(String));
      }
      const remaining = responses.map((response) =>
        Number(response.headers['x-ratelimit-remaining']),
      );
      expect(remaining).toEqual([remaining[0], remaining[0] - 1, remaining[0] - 2]);
      expect(Buffer.from(responses[1].text).equals(Buffer.from(responses[0].text))).toBe(true);
    },
  );

  it('gives the JSON login message nothing to tell the cases apart', async () => {
    const response = await jsonLogin('unknown email');
    expect(response.status).toBe(401);
    expect(response.body).toEqual({
      message: 'Invalid email or password',
      error: 'Unauthorized',
      statusCode: 401,
    });
  });

  it('answers an unknown email about as slowly as a wrong password (dummy argon2 hash)', async () => {
    const timings: Record<Kind, number[]> = {
      'unknown email': [],
      'wrong password': [],
      'disabled user': [],
    };
    // Interleaved, so that a busy spell of the machine slows every kind alike.
    for (let round = 0; round < WARM_UPS + SAMPLES; round += 1) {
      for (const kind of kinds) {
        const started = performance.now();
        const response = await jsonLogin(kind);
        const elapsed = performance.now() - started;
        expect(response.status).toBe(401);
        if (round >= WARM_UPS) timings[kind].push(elapsed);
      }
    }
    const medians = Object.fromEntries(
      kinds.map((kind) => [kind, Math.round(median(timings[kind]) * 10) / 10]),
    ) as Record<Kind, number>;
    // Without the dummy verification an unknown email answers in ~1 ms against ~30 ms.
    expect(medians['unknown email']).toBeGreaterThanOrEqual(0.5 * medians['wrong password']);
    expect(medians['disabled user']).toBeGreaterThanOrEqual(0.5 * medians['wrong password']);
  }, 120_000);

  it('registration of a taken email is the documented exception: 409', async () => {
    const taken = await t
      .http()
      .post('/auth/register')
      .send({ email: known.toUpperCase(), password: PASSWORD });
    expect(taken.status).toBe(409);
    const fresh = await t
      .http()
      .post('/auth/register')
      .send({ email: uniqueEmail('fresh'), password: PASSWORD });
    expect(fresh.status).toBe(201);
  });
});
