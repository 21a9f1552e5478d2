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

  /** Whether the session's row (which holds its whole refresh-token chain) is still there. */
  async function kept(sessionId: string): Promise<boolean> {
    const [{ sessions }] = await t.dataSource.query(
      'SELECT count(*)::int AS sessions FROM auth_sessions WHERE id = $1',
      [sessionId],
    );
    return sessions === 1;
  }

  function backdate(sessionId: string, column: string, msAgo: number) {
    return t.dataSource.query(`UPDATE auth_sessions SET ${column} = $2 WHERE id = $1`, [
      sessionId,
      new Date(Date.now() - msAgo),
    ]);
  }

  it('deletes ended sessions once their access tokens have expired, and keeps the rest', async () => {
    const { email, tokens: live } = await signUp(t);
    // A live session with a rotated token: reuse detection needs its row.
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

    expect(await kept(revokedLongAgo.session_id)).toBe(false);
    expect(await kept(pastAbsoluteEnd.session_id)).toBe(false);
    expect(await kept(idleTooLong.session_id)).toBe(false);
    // Revoked within the access-token lifetime: the revocation set still needs the row.
    expect(await kept(revokedJustNow.session_id)).toBe(true);
    expect(await kept(idleButAlive.session_id)).toBe(true);
    expect(await kept(live.session_id)).toBe(true);

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
