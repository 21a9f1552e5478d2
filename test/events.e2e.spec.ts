import { Logger } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { AuthEvent, type AuthEventName } from '../src/auth';
import {
  decodeJwt,
  PASSWORD,
  refresh,
  register,
  uniqueEmail,
  type TokenPair,
} from './support/auth-client';
import { createTestApp, type TestApp } from './support/test-app';
import { sleep } from './support/time';

const ADMIN_EMAIL = 'admin@example.com';
const ADMIN_PASSWORD = 'admin password 1';
const NEW_PASSWORD = 'a brand new passphrase';
const WRONG_PASSWORD = 'not the right password';
const USER_AGENT = 'EventsTest/1.0';

const EVENT_NAMES = Object.values(AuthEvent) as AuthEventName[];
/** Events logged as warnings; every other one is logged at `log` level. */
const WARNED: AuthEventName[] = [AuthEvent.LoginFailed, AuthEvent.TokenReuseDetected];

interface Emitted {
  name: AuthEventName;
  payload: unknown;
}

interface LogLine {
  level: 'log' | 'warn' | 'error';
  line: string;
}

/** What the tests have seen: events since the last reset, and everything since the start. */
const emitted: Emitted[] = [];
const logged: LogLine[] = [];
const allEmitted: Emitted[] = [];
const allLogged: LogLine[] = [];
/** Every password and token value a test used or received. */
const secrets = new Set<string>([PASSWORD, ADMIN_PASSWORD, NEW_PASSWORD, WRONG_PASSWORD]);

function reset(): void {
  emitted.length = 0;
  logged.length = 0;
}

function subscribe(t: TestApp): void {
  const emitter = t.app.get(EventEmitter2);
  for (const name of EVENT_NAMES) {
    emitter.on(name, (payload: unknown) => {
      emitted.push({ name, payload });
      allEmitted.push({ name, payload });
    });
  }
}

function captureLogs(): void {
  for (const level of ['log', 'warn', 'error'] as const) {
    jest.spyOn(Logger.prototype, level).mockImplementation((...args: unknown[]) => {
      const entry = { level, line: String(args[0]) };
      logged.push(entry);
      allLogged.push(entry);
    });
  }
}

/** Remembers the token values of a response so no event or log line may carry them. */
function remember<T extends Partial<TokenPair>>(tokens: T): T {
  if (tokens.access_token) secrets.add(tokens.access_token);
  if (tokens.refresh_token) secrets.add(tokens.refresh_token);
  return tokens;
}

async function loginAs(t: TestApp, email: string, password = PASSWORD): Promise<TokenPair> {
  const response = await t
    .http()
    .post('/auth/login')
    .set('User-Agent', USER_AGENT)
    .send({ email, password })
    .expect(200);
  return remember(response.body as TokenPair);
}

async function failLogin(t: TestApp, email: string, password: string): Promise<void> {
  await t
    .http()
    .post('/auth/login')
    .set('User-Agent', USER_AGENT)
    .send({ email, password })
    .expect(401);
}

async function refreshOk(t: TestApp, refreshToken: string): Promise<TokenPair> {
  const response = await refresh(t, refreshToken).expect(200);
  return remember(response.body as TokenPair);
}

function bearer(tokens: TokenPair) {
  return `Bearer ${tokens.access_token}`;
}

/** Orders events by their JSON, to compare events whose order is not promised. */
function sortEvents(events: Emitted[]): Emitted[] {
  return [...events].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
}

/**
 * The events since the last reset are exactly `expected` (the first `unordered` of them in any
 * order: a statement that ends several sessions returns them in no promised order), each logged
 * as exactly one line, `<name> <payload as JSON>`, and none carries a secret.
 */
function expectEvents(expected: Emitted[], unordered = 0): void {
  expect(sortEvents(emitted.slice(0, unordered))).toEqual(sortEvents(expected.slice(0, unordered)));
  expect(emitted.slice(unordered)).toEqual(expected.slice(unordered));
  expect(emitted).toHaveLength(expected.length);
  const eventLines = logged.filter(({ line }) =>
    EVENT_NAMES.some((name) => line.startsWith(`${name} `)),
  );
  expect(eventLines).toEqual(
    emitted.map(({ name, payload }) => ({
      level: WARNED.includes(name) ? 'warn' : 'log',
      line: `${name} ${JSON.stringify(payload)}`,
    })),
  );
  expectNoSecrets(emitted, logged);
}

function expectNoSecrets(events: Emitted[], lines: LogLine[]): void {
  const texts = [
    ...events.map(({ payload }) => JSON.stringify(payload)),
    ...lines.map(({ line }) => line),
  ];
  for (const text of texts) {
    for (const secret of secrets) expect(text).not.toContain(secret);
  }
}

describe('auth events and their log lines', () => {
  let t: TestApp;
  let graceOne: TestApp;
  let admin: TokenPair;
  let adminId: string;
  /** The client address the app records for supertest's requests. */
  let ip: string;

  beforeAll(async () => {
    captureLogs();
    t = await createTestApp({ AUTH_ADMIN_EMAIL: ADMIN_EMAIL, AUTH_ADMIN_PASSWORD: ADMIN_PASSWORD });
    graceOne = await createTestApp({ AUTH_REFRESH_REUSE_GRACE: '1' });
    subscribe(t);
    subscribe(graceOne);
    admin = await loginAs(t, ADMIN_EMAIL, ADMIN_PASSWORD);
    adminId = decodeJwt(admin.access_token).payload.sub;
    const sessions = await t.http().get('/auth/sessions').set('Authorization', bearer(admin));
    ip = sessions.body[0].ip;
    expect(typeof ip).toBe('string');
  });
  beforeEach(() => reset());
  afterAll(async () => {
    await t?.close();
    await graceOne?.close();
    jest.restoreAllMocks();
  });

  it('login succeeded: user, session, ip and user agent', async () => {
    const { id, email } = await register(t);
    expectEvents([]);
    const tokens = await loginAs(t, email);
    expectEvents([
      {
        name: AuthEvent.LoginSucceeded,
        payload: { userId: id, sessionId: tokens.session_id, ip, userAgent: USER_AGENT },
      },
    ]);
  });

  it('login failed: unknown email, wrong password and disabled user, as warnings', async () => {
    const unknown = uniqueEmail('nobody');
    await failLogin(t, unknown, PASSWORD);

    const { email } = await register(t);
    await failLogin(t, email, WRONG_PASSWORD);

    const disabled = await register(t);
    await t
      .http()
      .patch(`/admin/users/${disabled.id}`)
      .set('Authorization', bearer(admin))
      .send({ disabled: true })
      .expect(200);
    await failLogin(t, disabled.email, PASSWORD);

    expectEvents([
      {
        name: AuthEvent.LoginFailed,
        payload: { email: unknown, reason: 'unknown_email', ip },
      },
      {
        name: AuthEvent.LoginFailed,
        payload: { email, reason: 'wrong_password', ip },
      },
      {
        name: AuthEvent.UserDisabled,
        payload: { userId: disabled.id, byUserId: adminId, endedSessions: 0 },
      },
      {
        name: AuthEvent.LoginFailed,
        payload: { email: disabled.email, reason: 'user_disabled', ip },
      },
    ]);
  });

  it('token refreshed, and refreshed again within the grace window', async () => {
    const { id, email } = await register(t);
    const tokens = await loginAs(t, email);
    reset();

    await refreshOk(t, tokens.refresh_token);
    // The rotated token presented again within AUTH_REFRESH_REUSE_GRACE (10 s by default).
    const again = await refreshOk(t, tokens.refresh_token);
    expect(again.session_id).toBe(tokens.session_id);

    expectEvents([
      {
        name: AuthEvent.TokenRefreshed,
        payload: { userId: id, sessionId: tokens.session_id, withinGrace: false },
      },
      {
        // Told apart from a theft: the predecessor within the window, accepted.
        name: AuthEvent.TokenReuseDetected,
        payload: {
          userId: id,
          sessionId: tokens.session_id,
          reason: 'rotated_token',
          kind: 'predecessor_within_grace',
          presentedGeneration: 1,
          currentGeneration: 2,
          msSinceRotation: expect.any(Number),
          accepted: true,
          sessionEnded: false,
        },
      },
      {
        name: AuthEvent.TokenRefreshed,
        payload: { userId: id, sessionId: tokens.session_id, withinGrace: true },
      },
    ]);
  });

  it('reuse after the grace window: reuse detected (warning), then the session revoked', async () => {
    const { id, email } = await register(graceOne);
    const tokens = await loginAs(graceOne, email);
    const rotated = await refreshOk(graceOne, tokens.refresh_token);
    reset();

    await sleep(1100);
    await graceOne
      .http()
      .post('/auth/refresh')
      .send({ refresh_token: tokens.refresh_token })
      .expect(401);
    // Its successor is dead too, and refusing it emits nothing more.
    await graceOne
      .http()
      .post('/auth/refresh')
      .send({ refresh_token: rotated.refresh_token })
      .expect(401);

    expectEvents([
      {
        name: AuthEvent.TokenReuseDetected,
        payload: {
          userId: id,
          sessionId: tokens.session_id,
          reason: 'rotated_token',
          kind: 'predecessor_after_grace',
          presentedGeneration: 1,
          currentGeneration: 2,
          msSinceRotation: expect.any(Number),
          accepted: false,
          sessionEnded: true,
        },
      },
      {
        name: AuthEvent.SessionRevoked,
        payload: { userId: id, sessionId: tokens.session_id, reason: 'reuse_detected' },
      },
    ]);
  });

  it('logout with the refresh token or the bearer token: session revoked, reason logout', async () => {
    const { id, email } = await register(t);
    const first = await loginAs(t, email);
    const second = await loginAs(t, email);
    reset();

    await t.http().post('/auth/logout').send({ refresh_token: first.refresh_token }).expect(204);
    await t.http().post('/auth/logout').set('Authorization', bearer(second)).expect(204);
    // Idempotent: logging out again ends nothing and emits nothing.
    await t.http().post('/auth/logout').send({ refresh_token: first.refresh_token }).expect(204);

    expectEvents([
      {
        name: AuthEvent.SessionRevoked,
        payload: { userId: id, sessionId: first.session_id, reason: 'logout' },
      },
      {
        name: AuthEvent.SessionRevoked,
        payload: { userId: id, sessionId: second.session_id, reason: 'logout' },
      },
    ]);
  });

  it('logout-all: one session revoked event per session, reason logout_all', async () => {
    const { id, email } = await register(t);
    const sessions = [await loginAs(t, email), await loginAs(t, email), await loginAs(t, email)];
    const stranger = await register(t);
    await loginAs(t, stranger.email);
    reset();

    await t.http().post('/auth/logout-all').set('Authorization', bearer(sessions[1])).expect(204);

    expectEvents(
      sessions.map((tokens) => ({
        name: AuthEvent.SessionRevoked,
        payload: { userId: id, sessionId: tokens.session_id, reason: 'logout_all' },
      })),
      3,
    );
  });

  it('session delete: session revoked, reason session_deleted; a 404 emits nothing', async () => {
    const { id, email } = await register(t);
    const laptop = await loginAs(t, email);
    const phone = await loginAs(t, email);
    reset();

    await t
      .http()
      .delete(`/auth/sessions/${phone.session_id}`)
      .set('Authorization', bearer(laptop))
      .expect(204);
    await t
      .http()
      .delete(`/auth/sessions/${phone.session_id}`)
      .set('Authorization', bearer(laptop))
      .expect(404);
    await t
      .http()
      .delete(`/auth/sessions/${admin.session_id}`)
      .set('Authorization', bearer(laptop))
      .expect(404);

    expectEvents([
      {
        name: AuthEvent.SessionRevoked,
        payload: { userId: id, sessionId: phone.session_id, reason: 'session_deleted' },
      },
    ]);
  });

  it('password change: every other session revoked (password_changed), then password changed', async () => {
    const { id, email } = await register(t);
    const caller = await loginAs(t, email);
    const others = [await loginAs(t, email), await loginAs(t, email)];
    reset();

    // A wrong current password changes nothing and emits nothing.
    await t
      .http()
      .post('/auth/password')
      .set('Authorization', bearer(caller))
      .send({ currentPassword: WRONG_PASSWORD, newPassword: NEW_PASSWORD })
      .expect(403);
    expectEvents([]);

    await t
      .http()
      .post('/auth/password')
      .set('Authorization', bearer(caller))
      .send({ currentPassword: PASSWORD, newPassword: NEW_PASSWORD })
      .expect(204);

    expectEvents(
      [
        ...others.map((tokens) => ({
          name: AuthEvent.SessionRevoked,
          payload: { userId: id, sessionId: tokens.session_id, reason: 'password_changed' },
        })),
        { name: AuthEvent.PasswordChanged, payload: { userId: id, endedSessions: 2 } },
      ],
      2,
    );
  });

  it('admin disable: every session revoked (user_disabled), then user disabled, once', async () => {
    const { id, email } = await register(t);
    const sessions = [await loginAs(t, email), await loginAs(t, email)];
    reset();

    const patch = () =>
      t
        .http()
        .patch(`/admin/users/${id}`)
        .set('Authorization', bearer(admin))
        .send({ disabled: true })
        .expect(200);
    await patch();

    expectEvents(
      [
        ...sessions.map((tokens) => ({
          name: AuthEvent.SessionRevoked,
          payload: { userId: id, sessionId: tokens.session_id, reason: 'user_disabled' },
        })),
        {
          name: AuthEvent.UserDisabled,
          payload: { userId: id, byUserId: adminId, endedSessions: 2 },
        },
      ],
      2,
    );

    // Disabling an already disabled user ends nothing more and announces nothing.
    reset();
    await patch();
    expectEvents([]);
  });

  it('no payload and no log line ever carried a password or a token value', () => {
    expect(allEmitted.length).toBeGreaterThan(20);
    expect(secrets.size).toBeGreaterThan(20);
    expectNoSecrets(allEmitted, allLogged);
    // Every event was logged exactly once.
    const eventLines = allLogged.filter(({ line }) =>
      EVENT_NAMES.some((name) => line.startsWith(`${name} `)),
    );
    expect(eventLines).toHaveLength(allEmitted.length);
  });
});
