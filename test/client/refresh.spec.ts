import { AuthError, memoryStorage } from './support/sdk';
import type { SeenRequest } from './support/fake-service';
import { bearerOf, closeClients, setup } from './support/setup';

afterEach(() => {
  closeClients();
  jest.restoreAllMocks();
});

const SECOND = 1000;

function unavailable(headers: Record<string, string> = {}) {
  return (request: SeenRequest) =>
    request.path === '/auth/refresh'
      ? new Response('{"statusCode":503,"message":"Service Unavailable"}', {
          status: 503,
          headers: { 'content-type': 'application/json', ...headers },
        })
      : undefined;
}

/** Local-clock times at which the refresh endpoint was called, relative to `start`. */
function refreshTimes(service: ReturnType<typeof setup>['service'], start: number): number[] {
  return service.seen('/auth/refresh').map((request) => request.at - service.skewMs - start);
}

describe('client SDK: refresh ahead of expiry', () => {
  it('refreshes refreshAheadSeconds before expiry, and again after each refresh', async () => {
    const { client, service, clock, signIn } = setup({ refreshAheadSeconds: 60 });
    const start = clock.now();
    await signIn();
    const first = await bearerOf(client, service);

    await clock.advance(840 * SECOND - 1);
    expect(service.seen('/auth/refresh')).toHaveLength(0);
    await clock.advance(1);
    expect(refreshTimes(service, start)).toEqual([840 * SECOND]);
    await clock.advance(840 * SECOND);
    expect(refreshTimes(service, start)).toEqual([840 * SECOND, 1680 * SECOND]);

    expect(await bearerOf(client, service)).not.toBe(first);
    expect(client.signedIn).toBe(true);
  });

  it('caps refreshAhead to half the lifetime of a short-lived token', async () => {
    const { service, clock, signIn } = setup({ refreshAheadSeconds: 30 });
    service.accessTtl = 20;
    const start = clock.now();
    await signIn();

    await clock.advance(25 * SECOND);

    expect(refreshTimes(service, start)).toEqual([10 * SECOND, 20 * SECOND]);
  });

  describe.each([
    ['ahead', 10 * 60 * SECOND],
    ['behind', -10 * 60 * SECOND],
  ])('with the server clock 10 minutes %s', (_label, skewMs) => {
    it('still refreshes refreshAhead before the real expiry', async () => {
      const { client, service, clock, signIn } = setup({ refreshAheadSeconds: 30 });
      service.skewMs = skewMs;
      const start = clock.now();
      await signIn();

      // Estimated from the token's iat (whole seconds) and the round trip.
      expect(Math.abs(client.clockSkewMs! - skewMs)).toBeLessThanOrEqual(SECOND);
      await clock.advance(870 * SECOND - 1);
      expect(service.seen('/auth/refresh')).toHaveLength(0);
      await clock.advance(1);
      expect(refreshTimes(service, start)).toEqual([870 * SECOND]);
      // The refreshed token is accepted: nothing expired on the server's clock in between.
      expect((await client.fetch('/api/x')).status).toBe(200);
    });
  });

  it('trusts the shorter of expires_in and exp - iat', async () => {
    const { service, clock, signIn } = setup({ refreshAheadSeconds: 30 });
    const start = clock.now();
    service.overrides.push((request) => {
      if (request.path !== '/auth/login') return undefined;
      const payload = Buffer.from(
        JSON.stringify({ sub: 'user-1', sid: 'session-x', iat: 1000, exp: 1300 }),
      ).toString('base64url');
      return Response.json({
        access_token: `e30.${payload}.sig`,
        token_type: 'Bearer',
        expires_in: 900,
        refresh_token: 'refresh-x',
        refresh_token_expires_in: 3600,
        session_id: 'session-x',
      });
    });
    service.overrides.push((request) =>
      request.path === '/auth/me' ? Response.json({ id: 'user-1' }) : undefined,
    );
    await signIn();

    await clock.advance(300 * SECOND);

    expect(refreshTimes(service, start)).toEqual([270 * SECOND]);
  });
});

describe('client SDK: single flight and retry', () => {
  it('10 concurrent requests on an expired token share exactly one refresh', async () => {
    const { client, service, clock, signIn } = setup();
    await signIn();
    clock.time += 3600 * SECOND; // asleep: no timer ran

    const responses = await Promise.all(
      Array.from({ length: 10 }, (_, i) => client.fetch(`/api/item/${i}`)),
    );

    expect(responses.map((response) => response.status)).toEqual(Array(10).fill(200));
    expect(service.seen('/auth/refresh')).toHaveLength(1);
    const bearers = new Set(
      service.requests.filter((r) => r.path.startsWith('/api/item/')).map((r) => r.bearer),
    );
    expect(bearers.size).toBe(1);
  });

  it('10 concurrent requests rejected with invalid_token share one refresh and retry once', async () => {
    const { client, service, signIn } = setup();
    await signIn();
    const stale = service.seen('/auth/me')[0].bearer;
    // The key that signed the token was revoked: the service refuses it before it expires.
    service.overrides.push(
      ...Array.from(
        { length: 10 },
        () => (request: SeenRequest) =>
          request.bearer === stale && request.path.startsWith('/api/')
            ? new Response(null, {
                status: 401,
                headers: { 'www-authenticate': 'Bearer error="invalid_token"' },
              })
            : undefined,
      ),
    );

    const responses = await Promise.all(
      Array.from({ length: 10 }, (_, i) => client.fetch(`/api/item/${i}`)),
    );

    expect(responses.map((response) => response.status)).toEqual(Array(10).fill(200));
    expect(service.seen('/auth/refresh')).toHaveLength(1);
    expect(service.requests.filter((r) => r.path.startsWith('/api/item/'))).toHaveLength(20);
  });

  it('retries a rejected request once after refreshing, with its body', async () => {
    const { client, service, signIn } = setup();
    await signIn();
    service.overrides.push((request) =>
      request.path === '/api/orders'
        ? new Response(null, {
            status: 401,
            headers: { 'www-authenticate': 'Bearer error="invalid_token"' },
          })
        : undefined,
    );
    const stream = new Blob(['{"item":42}']).stream();

    const response = await client.fetch('/api/orders', {
      method: 'POST',
      body: stream,
      duplex: 'half',
    } as RequestInit);

    expect(response.status).toBe(200);
    const attempts = service.seen('/api/orders');
    expect(attempts.map((attempt) => attempt.body)).toEqual(['{"item":42}', '{"item":42}']);
    expect(attempts[1].bearer).not.toBe(attempts[0].bearer);
    expect(service.seen('/auth/refresh')).toHaveLength(1);
  });

  it('returns the second 401 as it is instead of refreshing again', async () => {
    const { client, service, signIn } = setup();
    await signIn();
    service.rejectAllTokens = true;

    const response = await client.fetch('/api/x');

    expect(response.status).toBe(401);
    expect(service.seen('/api/x')).toHaveLength(2);
    expect(service.seen('/auth/refresh')).toHaveLength(1);
    expect(client.signedIn).toBe(true);
  });

  it('returns a 401 that is not about the token (no invalid_token) as it is', async () => {
    const { client, service, signIn } = setup();
    await signIn();
    service.overrides.push((request) =>
      request.path === '/api/x'
        ? new Response(null, { status: 401, headers: { 'www-authenticate': 'Basic' } })
        : undefined,
    );

    expect((await client.fetch('/api/x')).status).toBe(401);
    expect(service.seen('/auth/refresh')).toHaveLength(0);
  });
});

describe('client SDK: loop cap', () => {
  it('stops a refresh -> 401 -> refresh cycle and ends the session as a loop', async () => {
    const { client, service, ended, signIn } = setup({ maxConsecutiveRefreshes: 3 });
    await signIn();
    service.rejectAllTokens = true;

    for (let i = 0; i < 6; i += 1) expect((await client.fetch('/api/x')).status).toBe(401);

    expect(service.seen('/auth/refresh')).toHaveLength(3);
    expect(ended).toEqual(['loop']);
    expect(client.signedIn).toBe(false);
    expect(service.seen('/auth/logout')).toHaveLength(1); // the abandoned session is ended
  });

  it('counts only refreshes with no accepted request in between', async () => {
    const { client, service, ended, signIn } = setup({ maxConsecutiveRefreshes: 1 });
    await signIn();
    const reject = (request: SeenRequest) =>
      request.path === '/api/x'
        ? new Response(null, {
            status: 401,
            headers: { 'www-authenticate': 'Bearer error="invalid_token"' },
          })
        : undefined;

    for (let i = 0; i < 4; i += 1) {
      service.overrides.push(reject);
      expect((await client.fetch('/api/x')).status).toBe(200); // refreshed, retried, accepted
    }

    expect(service.seen('/auth/refresh')).toHaveLength(4);
    expect(ended).toEqual([]);
  });
});

describe('client SDK: transient refresh failures', () => {
  it('backs off on 503, 503, then succeeds: delays grow, session kept', async () => {
    jest.spyOn(Math, 'random').mockReturnValue(0.999);
    const { client, service, clock, ended, errors, signIn } = setup({
      retry: { initialDelayMs: 1000, maxDelayMs: 30_000, maxAttempts: 4 },
    });
    const start = clock.now();
    await signIn();
    service.overrides.push(unavailable(), unavailable());

    await clock.advance(880 * SECOND);

    const [first, second, third] = refreshTimes(service, start);
    expect(first).toBe(870 * SECOND);
    expect(second - first).toBeGreaterThanOrEqual(999);
    expect(second - first).toBeLessThanOrEqual(1000);
    expect(third - second).toBeGreaterThanOrEqual(1998);
    expect(third - second).toBeLessThanOrEqual(2000);
    expect(client.signedIn).toBe(true);
    expect(ended).toEqual([]);
    expect(errors).toEqual([]);
    expect((await client.fetch('/api/x')).status).toBe(200);
  });

  it('waits as long as Retry-After asks', async () => {
    const { service, clock, signIn } = setup({ retry: { initialDelayMs: 100 } });
    const start = clock.now();
    await signIn();
    service.overrides.push(unavailable({ 'retry-after': '7' }));

    await clock.advance(870 * SECOND + 6999);
    expect(refreshTimes(service, start)).toEqual([870 * SECOND]);
    await clock.advance(1);
    expect(refreshTimes(service, start)).toEqual([870 * SECOND, 877 * SECOND]);
  });

  it('honours a Retry-After date, read against the response Date', async () => {
    const { service, clock, signIn } = setup({ retry: { initialDelayMs: 100 } });
    service.skewMs = -3600 * SECOND; // the server clock is an hour behind: the date still works
    const start = clock.now();
    await signIn();
    service.overrides.push((request) =>
      request.path === '/auth/refresh'
        ? new Response(null, {
            status: 429,
            headers: {
              'retry-after': new Date(service.serverNow() + 5 * SECOND).toUTCString(),
            },
          })
        : undefined,
    );

    await clock.advance(880 * SECOND);

    const [first, second] = refreshTimes(service, start);
    expect(second - first).toBeGreaterThanOrEqual(4 * SECOND);
    expect(second - first).toBeLessThanOrEqual(5 * SECOND);
  });

  it('after maxAttempts reports the error, keeps the session and tries again later', async () => {
    const { client, service, clock, ended, errors, signIn } = setup({
      retry: { initialDelayMs: 100, maxDelayMs: 10_000, maxAttempts: 3 },
    });
    const start = clock.now();
    await signIn();
    service.overrides.push(unavailable(), unavailable(), unavailable());

    await clock.advance(871 * SECOND);
    expect(service.seen('/auth/refresh')).toHaveLength(3);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(AuthError);
    expect(errors[0]).toMatchObject({ status: 503 });
    expect(client.signedIn).toBe(true);
    expect(ended).toEqual([]);

    await clock.advance(10 * SECOND);
    const times = refreshTimes(service, start);
    expect(times).toHaveLength(4);
    expect(times[3] - times[2]).toBeGreaterThanOrEqual(10 * SECOND);
    expect((await client.fetch('/api/x')).status).toBe(200);
  });

  it('rejects the calls that wait for a refresh when the round fails, with the network error', async () => {
    const { client, service, clock, errors, signIn } = setup({
      retry: { initialDelayMs: 100, maxAttempts: 2 },
    });
    await signIn();
    clock.time += 3600 * SECOND;
    const failing = (request: SeenRequest) => {
      if (request.path === '/auth/refresh') throw new TypeError('fetch failed');
      return undefined;
    };
    service.overrides.push(failing, failing);

    const calls = Promise.allSettled([client.fetch('/api/a'), client.me()]);
    await clock.advance(SECOND);

    for (const outcome of await calls) {
      expect(outcome).toMatchObject({ status: 'rejected', reason: { message: 'fetch failed' } });
    }
    expect(service.seen('/auth/refresh')).toHaveLength(2);
    expect(errors).toHaveLength(1);
    expect(client.signedIn).toBe(true);
    // Back online: the next call refreshes and goes through.
    expect((await client.fetch('/api/a')).status).toBe(200);
  });

  it('a Retry-After beyond maxDelayMs ends the round at once and the next try waits for it', async () => {
    const { service, clock, errors, signIn } = setup({ retry: { maxDelayMs: 5000 } });
    const start = clock.now();
    await signIn();
    service.overrides.push(unavailable({ 'retry-after': '60' }));

    await clock.advance(871 * SECOND);
    expect(service.seen('/auth/refresh')).toHaveLength(1);
    expect(errors).toHaveLength(1);
    await clock.advance(59 * SECOND - 1);
    expect(service.seen('/auth/refresh')).toHaveLength(1);
    await clock.advance(1);
    expect(refreshTimes(service, start)).toEqual([870 * SECOND, 930 * SECOND]);
  });
});

describe('client SDK: refresh refused', () => {
  it('a 401 on refresh ends the session, clears the storage and tells everyone', async () => {
    const storage = memoryStorage();
    const { client, service, clock, ended, states, errors, signIn } = setup({ storage });
    await signIn();
    expect(await storage.get()).toMatch(/^refresh-/);
    service.revokeAllSessions(); // an administrator disabled the user

    await clock.advance(871 * SECOND);

    expect(client.signedIn).toBe(false);
    expect(await storage.get()).toBeNull();
    expect(ended).toEqual(['revoked']);
    expect(states).toEqual([true, false]);
    expect(errors).toEqual([]);
  });

  it('reports expired when the refresh is refused after the session end it was told', async () => {
    const { client, service, clock, ended, signIn } = setup();
    service.sessionTtl = 600;
    await signIn();
    service.overrides.push((request) =>
      request.path === '/auth/refresh'
        ? Response.json({ statusCode: 401, message: 'Invalid refresh token' }, { status: 401 })
        : undefined,
    );
    clock.time += 1000 * SECOND; // past the access token's expiry and the session's end

    const response = await client.fetch('/api/x');

    expect(response.status).toBe(401); // sent without a token: there is no session any more
    expect(ended).toEqual(['expired']);
    expect(client.signedIn).toBe(false);
  });
});
