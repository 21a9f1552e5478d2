import { AUTH_DEFAULTS } from '../src/auth';
import type { SessionRepository } from '../src/auth/sessions/session.repository';
import { SessionCleanup } from '../src/auth/sessions/session-cleanup';
import { login, refresh, signUp } from './support/auth-client';
import { createTestApp, type TestApp } from './support/test-app';

const HOUR = 3600_000;
const DAY = 24 * HOUR;

describe('the scheduled session cleanup', () => {
  let t: TestApp;

  beforeAll(async () => {
    // Defaults: access tokens 900 s, idle 14 days, absolute 30 days.
    t = await createTestApp({ AUTH_REFRESH_REUSE_GRACE: '0' });
  });
  afterAll(() => t.close());

  async function rows(sessionId: string) {
    const [{ sessions }] = await t.dataSource.query(
      'SELECT count(*)::int AS sessions FROM auth_sessions WHERE id = $1',
      [sessionId],
    );
    const [{ tokens }] = await t.dataSource.query(
      'SELECT count(*)::int AS tokens FROM auth_refresh_tokens WHERE session_id = $1',
      [sessionId],
    );
    return { sessions, tokens };
  }

  function backdate(sessionId: string, column: string, msAgo: number) {
    return t.dataSource.query(`UPDATE auth_sessions SET ${column} = $2 WHERE id = $1`, [
      sessionId,
      new Date(Date.now() - msAgo),
    ]);
  }

  it('deletes ended sessions and their tokens once their access tokens have expired, and keeps the rest', async () => {
    const { email, tokens: live } = await signUp(t);
    // A live session with a rotated token: reuse detection needs both rows.
    const rotated = await refresh(t, live.refresh_token).expect(200);

    const revokedLongAgo = await login(t, email);
    await t
      .http()
      .post('/auth/logout')
      .send({ refresh_token: revokedLongAgo.refresh_token })
      .expect(204);
    await backdate(revokedLongAgo.session_id, 'revoked_at', HOUR);

    const revokedJustNow = await login(t, email);
    await t
      .http()
      .post('/auth/logout')
      .send({ refresh_token: revokedJustNow.refresh_token })
      .expect(204);

    const pastAbsoluteEnd = await login(t, email);
    await backdate(pastAbsoluteEnd.session_id, 'expires_at', HOUR);

    const idleTooLong = await login(t, email);
    await backdate(idleTooLong.session_id, 'last_used_at', 15 * DAY);

    const idleButAlive = await login(t, email);
    await backdate(idleButAlive.session_id, 'last_used_at', 13 * DAY);

    const deleted = await t.app.get(SessionCleanup).deleteEndedSessions();
    expect(deleted).toBeGreaterThanOrEqual(3);

    expect(await rows(revokedLongAgo.session_id)).toEqual({ sessions: 0, tokens: 0 });
    expect(await rows(pastAbsoluteEnd.session_id)).toEqual({ sessions: 0, tokens: 0 });
    expect(await rows(idleTooLong.session_id)).toEqual({ sessions: 0, tokens: 0 });
    // Revoked within the access-token lifetime: the revocation set still needs the row.
    expect(await rows(revokedJustNow.session_id)).toEqual({ sessions: 1, tokens: 1 });
    expect(await rows(idleButAlive.session_id)).toEqual({ sessions: 1, tokens: 1 });
    expect(await rows(live.session_id)).toEqual({ sessions: 1, tokens: 2 });

    // Reuse of the rotated token is still detected after the cleanup.
    await refresh(t, live.refresh_token).expect(401);
    await refresh(t, rotated.body.refresh_token).expect(401);
    // The idle-but-alive session still refreshes.
    await refresh(t, idleButAlive.refresh_token).expect(200);
  });
});

// The module runs its cleanup on a timer of its own (no @nestjs/schedule registered behind the
// host): hourly from bootstrap, never keeping the process alive, stopped on shutdown.
describe('the session cleanup timer', () => {
  afterEach(() => jest.useRealTimers());

  it('runs every hour from bootstrap until shutdown', async () => {
    jest.useFakeTimers();
    const deleteEnded = jest.fn().mockResolvedValue(0);
    const cleanup = new SessionCleanup({ ...AUTH_DEFAULTS, issuer: 'https://issuer.test' }, {
      deleteEnded,
    } as unknown as SessionRepository);
    cleanup.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(HOUR - 1);
    expect(deleteEnded).not.toHaveBeenCalled();
    await jest.advanceTimersByTimeAsync(1);
    expect(deleteEnded).toHaveBeenCalledTimes(1);
    await jest.advanceTimersByTimeAsync(HOUR);
    expect(deleteEnded).toHaveBeenCalledTimes(2);
    cleanup.onApplicationShutdown();
    await jest.advanceTimersByTimeAsync(3 * HOUR);
    expect(deleteEnded).toHaveBeenCalledTimes(2);
  });
});
