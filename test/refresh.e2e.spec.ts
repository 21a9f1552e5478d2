import { createHash } from 'node:crypto';
import { AuthService } from '../src/auth';
import { me, refresh, signUp, type TokenPair } from './support/auth-client';
import { createTestApp, type TestApp } from './support/test-app';
import { sleep } from './support/time';

describe('refresh: rotation and reuse detection (grace 1 s)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ AUTH_REFRESH_REUSE_GRACE: '1' });
  });
  afterAll(() => t.close());

  it('rotates: a new pair for the same session, with no-store', async () => {
    const { tokens } = await signUp(t);
    const response = await refresh(t, tokens.refresh_token);
    expect(response.status).toBe(200);
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.body.session_id).toBe(tokens.session_id);
    expect(response.body.refresh_token).not.toBe(tokens.refresh_token);
    expect(response.body.access_token).not.toBe(tokens.access_token);
    await me(t, response.body.access_token).expect(200);
    // The successor rotates in turn.
    await refresh(t, response.body.refresh_token).expect(200);
  });

  it('stores only SHA-256 hashes of the current and the previous refresh token', async () => {
    const { tokens } = await signUp(t);
    const sha256 = (value: string) => createHash('sha256').update(value).digest();
    const [login] = await t.dataSource.query(
      'SELECT token_hash, previous_token_hash FROM auth_sessions WHERE id = $1',
      [tokens.session_id],
    );
    expect(Buffer.from(login.token_hash)).toEqual(sha256(tokens.refresh_token));
    expect(login.previous_token_hash).toBeNull();
    const rotated = await refresh(t, tokens.refresh_token).expect(200);
    const [after] = await t.dataSource.query(
      'SELECT token_hash, previous_token_hash FROM auth_sessions WHERE id = $1',
      [tokens.session_id],
    );
    expect(Buffer.from(after.token_hash)).toEqual(sha256(rotated.body.refresh_token));
    expect(Buffer.from(after.previous_token_hash)).toEqual(sha256(tokens.refresh_token));
    // Nothing at rest holds a token in the clear (bytea columns read as hex and base64 too).
    const dump = JSON.stringify(
      await t.dataSource.query(
        `SELECT s.*, encode(s.successor_box, 'base64') AS box64, encode(s.successor_box, 'escape') AS box_text
         FROM auth_sessions s WHERE s.id = $1`,
        [tokens.session_id],
      ),
    );
    for (const token of [tokens.refresh_token, rotated.body.refresh_token]) {
      expect(dump).not.toContain(token);
      expect(dump).not.toContain(Buffer.from(token, 'base64url').toString('hex'));
    }
    // New sessions write no per-token rows at all.
    const [{ legacy }] = await t.dataSource.query(
      'SELECT count(*)::int AS legacy FROM auth_refresh_tokens WHERE session_id = $1',
      [tokens.session_id],
    );
    expect(legacy).toBe(0);
  });

  it('has at least 256 bits of randomness (92 base64url characters) and never repeats', async () => {
    const { tokens } = await signUp(t);
    const seen = new Set([tokens.refresh_token]);
    let current = tokens.refresh_token;
    for (let i = 0; i < 5; i += 1) {
      const response = await refresh(t, current).expect(200);
      current = response.body.refresh_token;
      expect(current).toMatch(/^[A-Za-z0-9_-]{92}$/);
      seen.add(current);
    }
    expect(seen.size).toBe(6);
  });

  it('within the grace window, the rotated token answers its one successor again', async () => {
    const { tokens } = await signUp(t);
    const first = await refresh(t, tokens.refresh_token).expect(200);
    const again = await refresh(t, tokens.refresh_token);
    expect(again.status).toBe(200);
    expect(again.body.session_id).toBe(tokens.session_id);
    // The same refresh token (one chain), with a fresh access token.
    expect(again.body.refresh_token).toBe(first.body.refresh_token);
    expect(again.body.access_token).not.toBe(first.body.access_token);
    await me(t, again.body.access_token).expect(200);
    // That one successor rotates once; the session goes on.
    const next = await refresh(t, again.body.refresh_token).expect(200);
    await refresh(t, next.body.refresh_token).expect(200);
  });

  it('after the grace window, reuse answers 401 and revokes the whole session', async () => {
    const { tokens } = await signUp(t);
    const rotated = await refresh(t, tokens.refresh_token).expect(200);
    await sleep(1100);

    const reuse = await refresh(t, tokens.refresh_token);
    expect(reuse.status).toBe(401);

    // Every token of the session is dead, and so are its access tokens.
    await refresh(t, rotated.body.refresh_token).expect(401);
    await me(t, rotated.body.access_token).expect(401);
    await me(t, tokens.access_token).expect(401);
    const [session] = await t.dataSource.query(
      'SELECT revoked_at, revoked_reason FROM auth_sessions WHERE id = $1',
      [tokens.session_id],
    );
    expect(session.revoked_at).not.toBeNull();
    expect(session.revoked_reason).toBe('reuse_detected');
  });

  it('reuse in one session leaves the user’s other sessions alone', async () => {
    const { email, tokens } = await signUp(t);
    const other = (
      await t.http().post('/auth/login').send({ email, password: 'correct horse battery' })
    ).body as TokenPair;
    await refresh(t, tokens.refresh_token).expect(200);
    await sleep(1100);
    await refresh(t, tokens.refresh_token).expect(401);
    await refresh(t, other.refresh_token).expect(200);
    await me(t, other.access_token).expect(200);
  });

  it('answers 401 for unknown, malformed and revoked tokens', async () => {
    await refresh(t, 'A'.repeat(43)).expect(401);
    await refresh(t, 'not a token').expect(401);
    const { tokens } = await signUp(t);
    await t.http().post('/auth/logout').send({ refresh_token: tokens.refresh_token }).expect(204);
    await refresh(t, tokens.refresh_token).expect(401);
  });

  it('answers 401 once the user is disabled outside the module and synced, and ends the session', async () => {
    const { id, tokens } = await signUp(t);
    await t.dataSource.query('UPDATE users SET disabled = true WHERE id = $1', [id]);
    await t.app.get(AuthService).syncUser(id);
    await refresh(t, tokens.refresh_token).expect(401);
    await me(t, tokens.access_token).expect(401);
    await t.dataSource.query('UPDATE users SET disabled = false WHERE id = $1', [id]);
    await refresh(t, tokens.refresh_token).expect(401);
  });

  it('carries roles changed outside the module (then synced) into the refreshed access token', async () => {
    const { id, tokens } = await signUp(t);
    await t.dataSource.query(`UPDATE users SET roles = '{admin}' WHERE id = $1`, [id]);
    await t.app.get(AuthService).syncUser(id);
    const response = await refresh(t, tokens.refresh_token).expect(200);
    await t
      .http()
      .get('/demo/admin')
      .set('Authorization', `Bearer ${response.body.access_token}`)
      .expect(200);
  });
});

describe('refresh: concurrency with grace 0', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ AUTH_REFRESH_REUSE_GRACE: '0' });
  });
  afterAll(() => t.close());

  it('lets exactly one of 20 simultaneous refreshes of one token succeed', async () => {
    const { tokens } = await signUp(t);
    const responses = await Promise.all(
      Array.from({ length: 20 }, () => refresh(t, tokens.refresh_token)),
    );
    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 401)).toHaveLength(19);
    // The chain moved exactly once.
    const [{ generation }] = await t.dataSource.query(
      'SELECT generation FROM auth_sessions WHERE id = $1',
      [tokens.session_id],
    );
    expect(generation).toBe(2);
  });

  it('treats any second presentation as reuse: the session ends', async () => {
    const { tokens } = await signUp(t);
    const rotated = await refresh(t, tokens.refresh_token).expect(200);
    await refresh(t, tokens.refresh_token).expect(401);
    await refresh(t, rotated.body.refresh_token).expect(401);
  });
});

describe('refresh: concurrency within the grace window', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ AUTH_REFRESH_REUSE_GRACE: '30' });
  });
  afterAll(() => t.close());

  it('gives every one of 10 concurrent tabs the same successor in the same session', async () => {
    const { tokens } = await signUp(t);
    const responses = await Promise.all(
      Array.from({ length: 10 }, () => refresh(t, tokens.refresh_token)),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect(new Set(responses.map((r) => r.body.session_id))).toEqual(new Set([tokens.session_id]));
    // One chain: every tab holds the one successor, and each got its own access token.
    expect(new Set(responses.map((r) => r.body.refresh_token)).size).toBe(1);
    expect(new Set(responses.map((r) => r.body.access_token)).size).toBe(10);
    const [{ generation }] = await t.dataSource.query(
      'SELECT generation FROM auth_sessions WHERE id = $1',
      [tokens.session_id],
    );
    expect(generation).toBe(2);
  });
});

describe('refresh: session lifetimes', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ AUTH_REFRESH_TTL: '3', AUTH_REFRESH_IDLE_TTL: '2' });
  });
  afterAll(() => t.close());

  it('never promises a refresh token past the nearer end of the session', async () => {
    const { tokens } = await signUp(t);
    expect(tokens.refresh_token_expires_in).toBeLessThanOrEqual(2);
    expect(tokens.refresh_token_expires_in).toBeGreaterThanOrEqual(1);
  });

  it('ends a session after its inactivity lifetime', async () => {
    const { tokens } = await signUp(t);
    await sleep(2100);
    await refresh(t, tokens.refresh_token).expect(401);
  });

  it('ends a session at its absolute lifetime even while it is used', async () => {
    const { tokens } = await signUp(t);
    let current = tokens.refresh_token;
    for (let i = 0; i < 2; i += 1) {
      await sleep(1200);
      const response = await refresh(t, current).expect(200);
      current = response.body.refresh_token;
      expect(response.body.refresh_token_expires_in).toBeLessThanOrEqual(3 - (i + 1));
    }
    await sleep(1000);
    await refresh(t, current).expect(401);
  });
});

describe('logout', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it('with the refresh token ends the session and its access tokens, and is idempotent', async () => {
    const { tokens } = await signUp(t);
    await t.http().post('/auth/logout').send({ refresh_token: tokens.refresh_token }).expect(204);
    await refresh(t, tokens.refresh_token).expect(401);
    await me(t, tokens.access_token).expect(401);
    await t.http().post('/auth/logout').send({ refresh_token: tokens.refresh_token }).expect(204);
  });

  it('with the bearer token ends that session only', async () => {
    const { email, tokens } = await signUp(t);
    const other = (
      await t.http().post('/auth/login').send({ email, password: 'correct horse battery' })
    ).body as TokenPair;
    await t
      .http()
      .post('/auth/logout')
      .set('Authorization', `Bearer ${tokens.access_token}`)
      .expect(204);
    await me(t, tokens.access_token).expect(401);
    await refresh(t, tokens.refresh_token).expect(401);
    await me(t, other.access_token).expect(200);
  });

  it('without any credential answers 401', async () => {
    const response = await t.http().post('/auth/logout').send({});
    expect(response.status).toBe(401);
    expect(response.headers['www-authenticate']).toMatch(/^Bearer/);
  });
});
