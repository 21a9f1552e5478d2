import { Logger } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { createHash } from 'node:crypto';
import type { Response } from 'supertest';
import { AuthEvent } from '../src/auth';
import { loadConfiguration } from '../src/config/configuration';
import { expectInvalidToken, me, PASSWORD, register, type TokenPair } from './support/auth-client';
import { createTestApp, startApp, type TestApp } from './support/test-app';
import { createTestDatabase, type TestDatabase, usingPostgres } from './support/test-database';
import { eventually } from './support/time';

/** A device id as an app would keep it in the Keychain / Keystore. */
const PHONE = 'phone-7b0c1c62-4f0e-4d57-9a57-2f6f4f3c9d11';
const OTHER_DEVICE = 'other-1d1b7a3e-5c4e-4b61-8f0e-0b3d1e9f6a22';

function loginOn(t: TestApp, email: string, deviceId?: string) {
  return t.http().post('/auth/login').send({ email, password: PASSWORD, device_id: deviceId });
}

function refreshOn(t: TestApp, refreshToken: string, deviceId?: string) {
  return t.http().post('/auth/refresh').send({ refresh_token: refreshToken, device_id: deviceId });
}

function oauthToken(t: TestApp, params: Record<string, string>) {
  return t.http().post('/oauth/token').type('form').send(params);
}

/** Registers a user and logs in, with `deviceId` when given. */
async function signUpOn(t: TestApp, deviceId?: string): Promise<TokenPair & { userId: string }> {
  const { email, id } = await register(t);
  const response = await loginOn(t, email, deviceId).expect(200);
  return { ...(response.body as TokenPair), userId: id };
}

async function sessionRow(t: TestApp, sessionId: string) {
  const [row] = await t.dataSource.query(
    'SELECT revoked_at, revoked_reason, device_id_hash FROM auth_sessions WHERE id = $1',
    [sessionId],
  );
  return row as { revoked_at: Date | null; revoked_reason: string | null; device_id_hash: any };
}

/** The generation of the session's refresh-token chain (1 at login, one more per rotation). */
async function generation(t: TestApp, sessionId: string): Promise<number> {
  const [row] = await t.dataSource.query('SELECT generation FROM auth_sessions WHERE id = $1', [
    sessionId,
  ]);
  return row.generation as number;
}

/** The 400 of the validation pipe, naming `device_id`. */
function expectDeviceIdError(response: Response): void {
  expect(response.status).toBe(400);
  expect(response.body).toEqual({
    statusCode: 400,
    error: 'Bad Request',
    message: expect.arrayContaining([expect.stringContaining('device_id')]),
  });
}

/** Bad `device_id` values: [case, value]. */
const BAD_DEVICE_IDS: [string, unknown][] = [
  ['7 characters', 'a'.repeat(7)],
  ['201 characters', 'a'.repeat(201)],
  ['the empty string', ''],
  ['a number', 12345678],
  ['an array', [PHONE]],
  ['an object', { id: PHONE }],
  ['a NUL character', `${PHONE}\u0000`],
];

describe('device binding: AUTH_REFRESH_BINDING=device', () => {
  let t: TestApp;
  /** The body of a refresh with an unknown token: every refused refresh must look the same. */
  let refusedBody: unknown;
  let refusedOAuthBody: unknown;

  beforeAll(async () => {
    t = await createTestApp({ AUTH_REFRESH_BINDING: 'device' });
    refusedBody = (await refreshOn(t, 'A'.repeat(43), PHONE).expect(401)).body;
    refusedOAuthBody = (
      await oauthToken(t, { grant_type: 'refresh_token', refresh_token: 'A'.repeat(43) }).expect(
        400,
      )
    ).body;
    expect(refusedOAuthBody).toEqual({
      error: 'invalid_grant',
      error_description: expect.any(String),
    });
  });
  afterAll(() => t.close());

  it('refreshes a bound session that presents its device_id, on /auth and on /oauth', async () => {
    const tokens = await signUpOn(t, PHONE);
    const first = await refreshOn(t, tokens.refresh_token, PHONE).expect(200);
    expect(first.body.session_id).toBe(tokens.session_id);
    const second = await oauthToken(t, {
      grant_type: 'refresh_token',
      refresh_token: first.body.refresh_token,
      device_id: PHONE,
    }).expect(200);
    expect(second.body.session_id).toBe(tokens.session_id);
    // JSON bodies on /oauth/token carry it too.
    await t
      .http()
      .post('/oauth/token')
      .send({
        grant_type: 'refresh_token',
        refresh_token: second.body.refresh_token,
        device_id: PHONE,
      })
      .expect(200);
  });

  it('binds a session started on /oauth/token (form) and refreshed on /auth/refresh', async () => {
    const { email } = await register(t);
    const login = await oauthToken(t, {
      grant_type: 'password',
      username: email,
      password: PASSWORD,
      device_id: PHONE,
    }).expect(200);
    await refreshOn(t, login.body.refresh_token, PHONE).expect(200);
    const session = await sessionRow(t, login.body.session_id);
    expect(Buffer.from(session.device_id_hash)).toEqual(
      createHash('sha256').update(PHONE).digest(),
    );
  });

  it.each([
    ['another device_id', OTHER_DEVICE],
    ['no device_id', undefined],
  ])(
    'answers a refresh with %s 401, never rotates, and ends the whole session',
    async (_case, presented) => {
      const tokens = await signUpOn(t, PHONE);
      const rotated = await refreshOn(t, tokens.refresh_token, PHONE).expect(200);
      // The first token again, within the grace window: the same successor, another access token.
      const sibling = await refreshOn(t, tokens.refresh_token, PHONE).expect(200);
      expect(sibling.body.session_id).toBe(tokens.session_id);
      expect(sibling.body.refresh_token).toBe(rotated.body.refresh_token);
      await me(t, rotated.body.access_token).expect(200);

      const refused = await refreshOn(t, rotated.body.refresh_token, presented);
      expect(refused.status).toBe(401);
      expect(refused.body).toEqual(refusedBody);
      expect(await generation(t, tokens.session_id)).toBe(2);

      // Every access token and every refresh token of the session is dead, at once.
      expectInvalidToken(await me(t, rotated.body.access_token));
      expectInvalidToken(await me(t, sibling.body.access_token));
      expectInvalidToken(await me(t, tokens.access_token));
      await refreshOn(t, sibling.body.refresh_token, PHONE).expect(401);
      await refreshOn(t, rotated.body.refresh_token, PHONE).expect(401);
      expect(await sessionRow(t, tokens.session_id)).toMatchObject({
        revoked_at: expect.any(Date),
        revoked_reason: 'device_mismatch',
      });
    },
  );

  it.each([
    ['another device_id', { device_id: OTHER_DEVICE }],
    ['no device_id', {}],
    ['an empty device_id (absent, RFC 6749 §3.1)', { device_id: '' }],
  ])('answers /oauth/token with %s invalid_grant and ends the session', async (_case, extra) => {
    const tokens = await signUpOn(t, PHONE);
    const refused = await oauthToken(t, {
      grant_type: 'refresh_token',
      refresh_token: tokens.refresh_token,
      ...extra,
    });
    expect(refused.status).toBe(400);
    expect(refused.body).toEqual(refusedOAuthBody);
    expectInvalidToken(await me(t, tokens.access_token));
    await refreshOn(t, tokens.refresh_token, PHONE).expect(401);
    expect((await sessionRow(t, tokens.session_id)).revoked_reason).toBe('device_mismatch');
  });

  it('leaves the user’s other sessions alone', async () => {
    const { email } = await register(t);
    const phone = (await loginOn(t, email, PHONE).expect(200)).body as TokenPair;
    const laptop = (await loginOn(t, email, OTHER_DEVICE).expect(200)).body as TokenPair;
    await refreshOn(t, phone.refresh_token, OTHER_DEVICE).expect(401);
    await me(t, laptop.access_token).expect(200);
    await refreshOn(t, laptop.refresh_token, OTHER_DEVICE).expect(200);
  });

  it('keeps a session whose login carried no device_id unbound, whatever its refreshes carry', async () => {
    const tokens = await signUpOn(t);
    const withId = await refreshOn(t, tokens.refresh_token, PHONE).expect(200);
    // Presenting one later does not bind it: the next refresh without one still works.
    const without = await refreshOn(t, withId.body.refresh_token).expect(200);
    await refreshOn(t, without.body.refresh_token, OTHER_DEVICE).expect(200);
    expect(await sessionRow(t, tokens.session_id)).toMatchObject({
      revoked_at: null,
      device_id_hash: null,
    });
  });

  it('answers a revoked bound session 401 without a second revocation', async () => {
    const tokens = await signUpOn(t, PHONE);
    await t.http().post('/auth/logout').send({ refresh_token: tokens.refresh_token }).expect(204);
    await refreshOn(t, tokens.refresh_token, OTHER_DEVICE).expect(401);
    expect((await sessionRow(t, tokens.session_id)).revoked_reason).toBe('logout');
  });

  it('stores only a SHA-256 of the device_id', async () => {
    const tokens = await signUpOn(t, PHONE);
    await refreshOn(t, tokens.refresh_token, PHONE).expect(200);
    const session = await sessionRow(t, tokens.session_id);
    expect(Buffer.from(session.device_id_hash)).toEqual(
      createHash('sha256').update(PHONE).digest(),
    );
    // Every column of every auth row, as text: neither the id nor its bytes appear anywhere.
    const rows: { row: string }[] = await t.dataSource.query(
      `SELECT s::text AS row FROM auth_sessions s
       UNION ALL SELECT r::text FROM auth_refresh_tokens r`,
    );
    const dump = rows.map(({ row }) => row).join('\n');
    expect(dump).toContain(tokens.session_id);
    expect(dump).not.toContain(PHONE);
    expect(dump).not.toContain(Buffer.from(PHONE).toString('hex'));
    expect(dump).not.toContain(Buffer.from(PHONE).toString('base64'));
  });

  describe('validation', () => {
    it.each([
      ['8 characters', 'a'.repeat(8)],
      ['200 characters', 'a'.repeat(200)],
    ])('accepts a device_id of %s', async (_case, deviceId) => {
      const tokens = await signUpOn(t, deviceId);
      await refreshOn(t, tokens.refresh_token, deviceId).expect(200);
    });

    it.each(BAD_DEVICE_IDS)(
      'answers /auth/login and /auth/refresh 400 naming device_id for %s',
      async (_case, deviceId) => {
        const { email } = await register(t);
        expectDeviceIdError(await loginOn(t, email, deviceId as string));
        const tokens = await signUpOn(t, PHONE);
        expectDeviceIdError(await refreshOn(t, tokens.refresh_token, deviceId as string));
        // Refused before anything happened: the session is untouched.
        await refreshOn(t, tokens.refresh_token, PHONE).expect(200);
      },
    );

    // An empty parameter counts as absent on /oauth/token (RFC 6749 §3.1): tested above.
    it.each(BAD_DEVICE_IDS.filter(([, deviceId]) => deviceId !== ''))(
      'answers /oauth/token (both grants, JSON) invalid_request for %s',
      async (_case, deviceId) => {
        const { email } = await register(t);
        const password = await t.http().post('/oauth/token').send({
          grant_type: 'password',
          username: email,
          password: PASSWORD,
          device_id: deviceId,
        });
        expect(password.status).toBe(400);
        expect(password.body).toEqual({
          error: 'invalid_request',
          error_description: expect.stringContaining('device_id'),
        });
        const tokens = await signUpOn(t, PHONE);
        const refreshed = await t.http().post('/oauth/token').send({
          grant_type: 'refresh_token',
          refresh_token: tokens.refresh_token,
          device_id: deviceId,
        });
        expect(refreshed.status).toBe(400);
        expect(refreshed.body).toEqual({
          error: 'invalid_request',
          error_description: expect.stringContaining('device_id'),
        });
        await refreshOn(t, tokens.refresh_token, PHONE).expect(200);
      },
    );

    it('answers /oauth/token (form) invalid_request for a short or repeated device_id', async () => {
      const { email } = await register(t);
      const short = await oauthToken(t, {
        grant_type: 'password',
        username: email,
        password: PASSWORD,
        device_id: 'short',
      });
      expect(short.status).toBe(400);
      expect(short.body.error).toBe('invalid_request');
      const repeated = await t
        .http()
        .post('/oauth/token')
        .type('form')
        .send(
          `grant_type=password&username=${encodeURIComponent(email)}&password=x&device_id=${PHONE}&device_id=${PHONE}`,
        );
      expect(repeated.status).toBe(400);
      expect(repeated.body.error).toBe('invalid_request');
    });

    it('never echoes the device_id in an error body', async () => {
      const { email } = await register(t);
      const secret = `${'s'.repeat(200)}X`;
      const response = await loginOn(t, email, secret);
      expect(response.status).toBe(400);
      expect(response.text).not.toContain(secret.slice(0, 50));
    });
  });
});

describe('device binding: events and log lines', () => {
  let t: TestApp;
  const emitted: { name: string; payload: unknown }[] = [];
  const logged: string[] = [];

  beforeAll(async () => {
    for (const level of ['log', 'warn', 'error'] as const) {
      jest.spyOn(Logger.prototype, level).mockImplementation((...args: unknown[]) => {
        logged.push(`${level} ${String(args[0])}`);
      });
    }
    t = await createTestApp({ AUTH_REFRESH_BINDING: 'device' });
    const emitter = t.app.get(EventEmitter2);
    for (const name of [AuthEvent.TokenReuseDetected, AuthEvent.SessionRevoked]) {
      emitter.on(name, (payload: unknown) => emitted.push({ name, payload }));
    }
  });
  afterAll(async () => {
    await t?.close();
    jest.restoreAllMocks();
  });

  it('says device_mismatch: reuse detected (a warning), then the session revoked', async () => {
    const tokens = await signUpOn(t, PHONE);
    emitted.length = 0;
    logged.length = 0;
    await refreshOn(t, tokens.refresh_token, OTHER_DEVICE).expect(401);

    const expected = {
      userId: tokens.userId,
      sessionId: tokens.session_id,
      reason: 'device_mismatch',
    };
    const reuse = { ...expected, accepted: false, sessionEnded: true };
    expect(emitted).toEqual([
      { name: AuthEvent.TokenReuseDetected, payload: reuse },
      { name: AuthEvent.SessionRevoked, payload: expected },
    ]);
    expect(logged).toEqual(
      expect.arrayContaining([
        `warn token.reuse_detected ${JSON.stringify(reuse)}`,
        `log session.revoked ${JSON.stringify(expected)}`,
      ]),
    );
    for (const line of logged) {
      for (const secret of [PHONE, OTHER_DEVICE, tokens.refresh_token, tokens.access_token]) {
        expect(line).not.toContain(secret);
      }
    }
  });
});

describe('device binding: concurrency (grace 0)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ AUTH_REFRESH_BINDING: 'device', AUTH_REFRESH_REUSE_GRACE: '0' });
  });
  afterAll(() => t.close());

  it('lets exactly one of 20 simultaneous refreshes with the right device_id succeed', async () => {
    const tokens = await signUpOn(t, PHONE);
    const responses = await Promise.all(
      Array.from({ length: 20 }, () => refreshOn(t, tokens.refresh_token, PHONE)),
    );
    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 401)).toHaveLength(19);
    expect(await generation(t, tokens.session_id)).toBe(2);
  });

  it('never lets a mismatching request win, even racing the right ones', async () => {
    const tokens = await signUpOn(t, PHONE);
    const devices = Array.from({ length: 20 }, (_, i) => (i % 2 ? PHONE : OTHER_DEVICE));
    const responses = await Promise.all(
      devices.map((device) => refreshOn(t, tokens.refresh_token, device)),
    );
    const winners = responses.flatMap((r, i) => (r.status === 200 ? [devices[i]] : []));
    expect(winners.length).toBeLessThanOrEqual(1);
    expect(winners.every((device) => device === PHONE)).toBe(true);
    // A mismatch was seen, so the session ended, whoever rotated first.
    expect((await sessionRow(t, tokens.session_id)).revoked_at).not.toBeNull();
    for (const response of responses.filter((r) => r.status === 200)) {
      expectInvalidToken(await me(t, response.body.access_token));
      await refreshOn(t, response.body.refresh_token, PHONE).expect(401);
    }
  });
});

describe('device binding: AUTH_REFRESH_BINDING=none (the default)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it('stores the device_id’s hash but refreshes with another device_id or none', async () => {
    const tokens = await signUpOn(t, PHONE);
    const other = await refreshOn(t, tokens.refresh_token, OTHER_DEVICE).expect(200);
    const none = await refreshOn(t, other.body.refresh_token).expect(200);
    await oauthToken(t, {
      grant_type: 'refresh_token',
      refresh_token: none.body.refresh_token,
      device_id: OTHER_DEVICE,
    }).expect(200);
    const session = await sessionRow(t, tokens.session_id);
    expect(session.revoked_at).toBeNull();
    expect(Buffer.from(session.device_id_hash)).toEqual(
      createHash('sha256').update(PHONE).digest(),
    );
  });

  it('still validates device_id', async () => {
    const { email } = await register(t);
    expectDeviceIdError(await loginOn(t, email, 'short'));
  });
});

describe('device binding: configuration', () => {
  it.each([
    [{ AUTH_REFRESH_BINDING: 'ip' }, /AUTH_REFRESH_BINDING/],
    [{ AUTH_REFRESH_BINDING: 'device', AUTH_REFRESH_TOKENS: 'off' }, /AUTH_REFRESH_BINDING=device/],
  ])('refuses %j at start, naming the variable', (env, message) => {
    expect(() => loadConfiguration(env)).toThrow(message);
  });

  it('reads none, device and unset', () => {
    expect(loadConfiguration({ AUTH_REFRESH_BINDING: 'device' }).auth.refreshBinding).toBe(
      'device',
    );
    expect(loadConfiguration({ AUTH_REFRESH_BINDING: 'none' }).auth.refreshBinding).toBe('none');
    expect(loadConfiguration({}).auth.refreshBinding).toBeUndefined();
  });
});

// A device mismatch ends the session through the one revocation path, NOTIFY included: another
// instance refuses the session's access tokens within a second.
(usingPostgres ? describe : describe.skip)('device binding: two instances on PostgreSQL', () => {
  let database: TestDatabase;
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    database = await createTestDatabase();
    const env = { AUTH_REFRESH_BINDING: 'device' };
    a = await startApp(database, env);
    b = await startApp(database, env);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await database?.drop();
  });

  it('a mismatch on B makes the session’s access token fail on A within 1 s', async () => {
    const tokens = await signUpOn(a, PHONE);
    await me(a, tokens.access_token).expect(200);
    await refreshOn(b, tokens.refresh_token, OTHER_DEVICE).expect(401);
    await eventually(async () => (await me(a, tokens.access_token)).status === 401, 1000);
    expectInvalidToken(await me(a, tokens.access_token));
  });
});
