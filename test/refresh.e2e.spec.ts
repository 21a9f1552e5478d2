import { createHash } from 'node:crypto';
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

  it('stores only a SHA-256 of each refresh token', async () => {
    const { tokens } = await signUp(t);
    const rows: { token_hash: Buffer }[] = await t.dataSource.query(
      'SELECT token_hash FROM auth_refresh_tokens WHERE session_id = $1',
      [tokens.session_id],
    );
    expect(rows).toHaveLength(1);
    expect(Buffer.from(rows[0].token_hash)).toEqual(
      createHash('sha256').update(tokens.refresh_token).digest(),
    );
    const dump = JSON.stringify(await t.dataSource.query('SELECT * FROM auth_refresh_tokens'));
    expect(dump).not.toContain(tokens.refresh_token);
  });

  it('has at least 256 bits of randomness (43 base64url characters) and never repeats', async () => {
    const { tokens } = await signUp(t);
    const seen = new Set([tokens.refresh_token]);
    let current = tokens.refresh_token;
    for (let i = 0; i < 5; i += 1) {
      const response = await refresh(t, current).expect(200);
      current = response.body.refresh_token;
      expect(current).toMatch(/^[A-Za-z0-9_-]{43}$/);
      seen.add(current);
    }
    expect(seen.size).toBe(6);
  });

  it('within the grace window, the rotated token yields another pair for the same session', async () => {
    const { tokens } = await signUp(t);
    const first = await refresh(t, tokens.refresh_token).expect(200);
    const again = await refresh(t, tokens.refresh_token);
    expect(again.status).toBe(200);
    expect(again.body.session_id).toBe(tokens.session_id);
    expect(again.body.refresh_token).not.toBe(first.body.refresh_token);
    // Both successors keep working: this was a concurrent tab, not theft.
    await refresh(t, first.body.refresh_token).expect(200);
    await refresh(t, again.body.refresh_token).expect(200);
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

  it('answers 401 once the user is disabled, and ends the session', async () => {
    const { id, tokens } = await signUp(t);
    await t.dataSource.query('UPDATE users SET disabled = true WHERE id = $1', [id]);
    await refresh(t, tokens.refresh_token).expect(401);
    await t.dataSource.query('UPDATE users SET disabled = false WHERE id = $1', [id]);
    await refresh(t, tokens.refresh_token).expect(401);
  });

  it('carries the user’s current roles into the refreshed access token', async () => {
    const { id, tokens } = await signUp(t);
    await t.dataSource.query(`UPDATE users SET roles = '{admin}' WHERE id = $1`, [id]);
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
    // The database holds exactly one successor.
    const [{ count }] = await t.dataSource.query(
      'SELECT count(*)::int AS count FROM auth_refresh_tokens WHERE session_id = $1',
      [tokens.session_id],
    );
    expect(count).toBe(2);
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

  it('gives every one of 10 concurrent tabs a working pair in the same session', async () => {
    const { tokens } = await signUp(t);
    const responses = await Promise.all(
      Array.from({ length: 10 }, () => refresh(t, tokens.refresh_token)),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect(new Set(responses.map((r) => r.body.session_id))).toEqual(new Set([tokens.session_id]));
    expect(new Set(responses.map((r) => r.body.refresh_token)).size).toBe(10);
    const [{ rotated }] = await t.dataSource.query(
      'SELECT count(*)::int AS rotated FROM auth_refresh_tokens WHERE session_id = $1 AND rotated_at IS NOT NULL',
      [tokens.session_id],
    );
    expect(rotated).toBe(1);
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
