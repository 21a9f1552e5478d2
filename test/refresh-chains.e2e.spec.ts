import { EventEmitter2 } from '@nestjs/event-emitter';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { AuthEvent, type AuthEventPayloads } from '../src/auth';
import { MIGRATIONS, createDataSource } from '../src/database/data-source';
import { me, refresh, signUp } from './support/auth-client';
import { createTestApp, startApp, type TestApp } from './support/test-app';
import { createTestDatabase, type TestDatabase } from './support/test-database';
import { sleep } from './support/time';

type ReuseEvent = AuthEventPayloads[typeof AuthEvent.TokenReuseDetected];

/** Every `token.reuse_detected` event the app emits from now on. */
function reuseEvents(t: TestApp): ReuseEvent[] {
  const seen: ReuseEvent[] = [];
  t.app.get(EventEmitter2).on(AuthEvent.TokenReuseDetected, (payload: ReuseEvent) => {
    seen.push(payload);
  });
  return seen;
}

async function sessionRow(t: TestApp, sessionId: string) {
  const [row] = await t.dataSource.query(
    'SELECT generation, revoked_at, revoked_reason FROM auth_sessions WHERE id = $1',
    [sessionId],
  );
  return row as { generation: number; revoked_at: Date | null; revoked_reason: string | null };
}

/** Rotates `count` times in a row; the last pair. */
async function rotate(t: TestApp, refreshToken: string, count: number) {
  let body = { refresh_token: refreshToken, access_token: '' };
  for (let i = 0; i < count; i += 1) body = (await refresh(t, body.refresh_token).expect(200)).body;
  return body;
}

describe('refresh-token chains: one successor within the grace window (grace 1 s)', () => {
  let t: TestApp;
  let events: ReuseEvent[];

  beforeAll(async () => {
    t = await createTestApp({ AUTH_REFRESH_REUSE_GRACE: '1' });
    events = reuseEvents(t);
  });
  afterAll(() => t.close());
  beforeEach(() => {
    events.length = 0;
  });

  it('a replay within the window gets the same successor: the session keeps one chain', async () => {
    const { tokens } = await signUp(t);
    const user = await refresh(t, tokens.refresh_token).expect(200);
    const thief = await refresh(t, tokens.refresh_token).expect(200);
    expect(thief.body.refresh_token).toBe(user.body.refresh_token);
    expect(events).toEqual([
      expect.objectContaining({
        kind: 'predecessor_within_grace',
        accepted: true,
        sessionEnded: false,
        presentedGeneration: 1,
        currentGeneration: 2,
      }),
    ]);
    expect(events[0].msSinceRotation).toBeGreaterThanOrEqual(0);
    expect(events[0].msSinceRotation).toBeLessThan(1000);
    expect((await sessionRow(t, tokens.session_id)).generation).toBe(2);
  });

  it('two holders of one token cannot both go on once their refreshes are apart: the session ends', async () => {
    const { tokens } = await signUp(t);
    // The user rotates A -> B; a thief replays A within the window and also holds B.
    const b = await refresh(t, tokens.refresh_token).expect(200);
    const stolen = await refresh(t, tokens.refresh_token).expect(200);
    expect(stolen.body.refresh_token).toBe(b.body.refresh_token);
    // The user goes on (B -> C); more than the window later the thief presents B.
    const c = await refresh(t, b.body.refresh_token).expect(200);
    await sleep(1100);
    await refresh(t, stolen.body.refresh_token).expect(401);
    expect(events.at(-1)).toMatchObject({
      kind: 'predecessor_after_grace',
      accepted: false,
      sessionEnded: true,
      presentedGeneration: 2,
      currentGeneration: 3,
    });
    // Whoever held the session has lost it: C and every access token are dead.
    await refresh(t, c.body.refresh_token).expect(401);
    await me(t, c.body.access_token).expect(401);
    expect(await sessionRow(t, tokens.session_id)).toMatchObject({
      revoked_reason: 'reuse_detected',
    });
  });

  it('the other order: the thief rotates first, the user is the one found out, and both lose', async () => {
    const { tokens } = await signUp(t);
    const thief = await refresh(t, tokens.refresh_token).expect(200);
    const user = await refresh(t, tokens.refresh_token).expect(200);
    const thiefNext = await refresh(t, thief.body.refresh_token).expect(200);
    await sleep(1100);
    await refresh(t, user.body.refresh_token).expect(401);
    await refresh(t, thiefNext.body.refresh_token).expect(401);
    await me(t, thiefNext.body.access_token).expect(401);
  });

  it('refuses, without ending the session, an older generation while the chain moved on within the window', async () => {
    const { tokens } = await signUp(t);
    // A tab rotates twice in quick succession; a slow tab still holds the first token.
    const second = await refresh(t, tokens.refresh_token).expect(200);
    const third = await refresh(t, second.body.refresh_token).expect(200);
    await refresh(t, tokens.refresh_token).expect(401);
    expect(events.at(-1)).toMatchObject({
      kind: 'older_generation',
      accepted: false,
      sessionEnded: false,
    });
    await refresh(t, third.body.refresh_token).expect(200);
  });

  it('detects reuse of any earlier generation, long after it was rotated', async () => {
    const { tokens } = await signUp(t);
    const chain = [tokens.refresh_token];
    for (let i = 0; i < 5; i += 1) {
      chain.push((await refresh(t, chain.at(-1)!).expect(200)).body.refresh_token);
    }
    await sleep(1100);
    events.length = 0;
    await refresh(t, chain[2]).expect(401);
    expect(events).toEqual([
      expect.objectContaining({
        kind: 'older_generation',
        accepted: false,
        sessionEnded: true,
        presentedGeneration: 3,
        currentGeneration: 6,
      }),
    ]);
    await refresh(t, chain[5]).expect(401);
    // Presented again after the end: a token of an ended session, nothing more to end.
    await refresh(t, chain[1]).expect(401);
    expect(events.at(-1)).toMatchObject({
      kind: 'ended_session',
      accepted: false,
      sessionEnded: false,
    });
  });

  it('refuses a forged token for a live session without ending it', async () => {
    const { tokens } = await signUp(t);
    const bytes = Buffer.from(tokens.refresh_token, 'base64url');
    // Same session and generation, another secret, the old tag: not a token the service issued.
    randomBytes(32).copy(bytes, 21);
    await refresh(t, bytes.toString('base64url')).expect(401);
    // An earlier generation with a made-up tag: also not reuse.
    bytes.writeUInt32BE(0, 17);
    await refresh(t, bytes.toString('base64url')).expect(401);
    expect(events).toEqual([]);
    await refresh(t, tokens.refresh_token).expect(200);
  });
});

describe('refresh-token chains: grace 0', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ AUTH_REFRESH_REUSE_GRACE: '0' });
  });
  afterAll(() => t.close());

  it('treats the predecessor as reuse even when the winning rotation was stamped later than this request', async () => {
    const { tokens } = await signUp(t);
    const winner = await refresh(t, tokens.refresh_token).expect(200);
    // As if the winner's clock ran ahead (another instance, or it read the clock later than
    // a concurrent loser): the loser's "time since rotation" is negative.
    await t.dataSource.query(
      `UPDATE auth_sessions SET rotated_at = now() + interval '5 seconds' WHERE id = $1`,
      [tokens.session_id],
    );
    await refresh(t, tokens.refresh_token).expect(401);
    await refresh(t, winner.body.refresh_token).expect(401);
    expect((await sessionRow(t, tokens.session_id)).revoked_reason).toBe('reuse_detected');
  });
});

describe('refresh-token chains: the refresh-token key', () => {
  let database: TestDatabase;
  let t: TestApp | undefined;
  const KEY_1 = 'first refresh-token key: 32 bytes or more';
  const KEY_2 = 'second refresh-token key: 32 bytes or more';

  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await t?.close();
    await database.drop();
  });

  async function restart(env: Record<string, string>) {
    await t?.close();
    t = await startApp(database, env);
    return t;
  }

  it('can be set, and rotated, without ending a session', async () => {
    // Started without a key: one is generated and kept in the database.
    let app = await restart({});
    const { tokens } = await signUp(app);
    // Set: the generated key still verifies, the configured one issues.
    app = await restart({ AUTH_REFRESH_TOKEN_KEY: KEY_1 });
    const underKey1 = await refresh(app, tokens.refresh_token).expect(200);
    // Rotated: the new key first, the old one still listed.
    app = await restart({ AUTH_REFRESH_TOKEN_KEY: `${KEY_2},${KEY_1}` });
    const underKey2 = await refresh(app, underKey1.body.refresh_token).expect(200);
    await me(app, underKey2.body.access_token).expect(200);
    // Only the new key left: its tokens go on, and logging out with one ends the session.
    app = await restart({ AUTH_REFRESH_TOKEN_KEY: KEY_2 });
    const afterDrop = await refresh(app, underKey2.body.refresh_token).expect(200);
    await app
      .http()
      .post('/auth/logout')
      .send({ refresh_token: afterDrop.body.refresh_token })
      .expect(204);
    await me(app, afterDrop.body.access_token).expect(401);
  }, 60_000);
});

describe('refresh-token chains: storage', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ AUTH_REFRESH_REUSE_GRACE: '0' });
  });
  afterAll(() => t.close());

  async function rowsPerTable(): Promise<Record<string, number>> {
    const tables: { name: string }[] = await t.dataSource.query(
      `SELECT table_name AS name FROM information_schema.tables
       WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name`,
    );
    const counts: Record<string, number> = {};
    for (const { name } of tables) {
      const [{ n }] = await t.dataSource.query(`SELECT count(*)::int AS n FROM "${name}"`);
      counts[name] = n;
    }
    return counts;
  }

  it('keeps as many rows after 2,000 rotations of a session as after its login', async () => {
    const { tokens } = await signUp(t);
    const before = await rowsPerTable();
    const last = await rotate(t, tokens.refresh_token, 2000);
    const after = await rowsPerTable();
    expect(after).toEqual(before);
    expect(Object.keys(before)).toEqual(
      expect.arrayContaining(['auth_sessions', 'auth_refresh_tokens', 'auth_user_state']),
    );
    expect((await sessionRow(t, tokens.session_id)).generation).toBe(2001);
    await me(t, last.access_token).expect(200);
    // Reuse of the very first token is still detected.
    await refresh(t, tokens.refresh_token).expect(401);
    await refresh(t, last.refresh_token).expect(401);
  }, 120_000);
});

describe('refresh-token chains: upgrade from tokens stored one row each', () => {
  let database: TestDatabase;
  let t: TestApp | undefined;
  const sha256 = (value: string) => createHash('sha256').update(value).digest();

  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await t?.close();
    await database.drop();
  });

  it('a token issued by the previous release refreshes once, then goes on in the new scheme', async () => {
    // The previous release's schema (every migration but the chains'), and what it stored for
    // a session refreshed once: its rotated first token and the current one.
    const previous = await createDataSource({
      url: database.env.DATABASE_URL,
      dataDir: database.env.AUTH_DATA_DIR ?? '',
    });
    previous.setOptions({ migrations: MIGRATIONS.slice(0, -1) });
    await previous.initialize();
    await previous.runMigrations();
    const userId = randomUUID();
    const sessionId = randomUUID();
    const [first, current, stale, staleCurrent, forkA, forkB] = [0, 1, 2, 3, 4, 5].map(() =>
      randomBytes(32).toString('base64url'),
    );
    const forkedSession = randomUUID();
    const otherSession = randomUUID();
    await previous.query(
      `INSERT INTO users (id, email, password_hash, roles) VALUES ($1, 'legacy@example.com', 'x', '{admin}')`,
      [userId],
    );
    for (const id of [sessionId, otherSession, forkedSession]) {
      await previous.query(
        `INSERT INTO auth_sessions (id, user_id, created_at, last_used_at, expires_at)
         VALUES ($1, $2, now() - interval '1 hour', now() - interval '1 minute', now() + interval '1 day')`,
        [id, userId],
      );
    }
    await previous.query(
      `INSERT INTO auth_refresh_tokens (id, session_id, token_hash, created_at, rotated_at) VALUES
         ($1, $2, $3, now() - interval '1 hour', now() - interval '1 minute'),
         ($4, $2, $5, now() - interval '1 minute', NULL),
         ($6, $7, $8, now() - interval '1 hour', now() - interval '1 minute'),
         ($9, $7, $10, now() - interval '1 minute', NULL)`,
      [
        randomUUID(),
        sessionId,
        sha256(first),
        randomUUID(),
        sha256(current),
        randomUUID(),
        otherSession,
        sha256(stale),
        randomUUID(),
        sha256(staleCurrent),
      ],
    );
    // The previous release answered a replay within its grace window with a second token in
    // the same session: two unrotated tokens.
    await previous.query(
      `INSERT INTO auth_refresh_tokens (id, session_id, token_hash, created_at, rotated_at) VALUES
         ($1, $2, $3, now() - interval '2 minutes', now() - interval '1 minute'),
         ($4, $2, $5, now() - interval '1 minute', NULL),
         ($6, $2, $7, now() - interval '1 minute', NULL)`,
      [
        randomUUID(),
        forkedSession,
        sha256(randomBytes(32).toString('base64url')),
        randomUUID(),
        sha256(forkA),
        randomUUID(),
        sha256(forkB),
      ],
    );
    await previous.destroy();

    // The upgrade: the new release applies its migration on start.
    t = await startApp(database, { AUTH_REFRESH_REUSE_GRACE: '1' });
    const upgraded = await refresh(t, current).expect(200);
    expect(upgraded.body.session_id).toBe(sessionId);
    expect(upgraded.body.refresh_token).toMatch(/^[A-Za-z0-9_-]{92}$/);
    // The roles come from the user store for a session from before roles were kept on it.
    const payload = JSON.parse(
      Buffer.from(upgraded.body.access_token.split('.')[1], 'base64url').toString(),
    );
    expect(payload.roles).toEqual(['admin']);
    // Within the window the old token answers the same successor; then the chain goes on.
    const again = await refresh(t, current).expect(200);
    expect(again.body.refresh_token).toBe(upgraded.body.refresh_token);
    const next = await refresh(t, upgraded.body.refresh_token).expect(200);
    await refresh(t, next.body.refresh_token).expect(200);
    // The old token, after the window, is a reuse: the session ends.
    await sleep(1100);
    await refresh(t, current).expect(401);
    expect((await sessionRow(t, sessionId)).revoked_reason).toBe('reuse_detected');

    // A token the previous release had already rotated is a reuse too: its session ends.
    await refresh(t, stale).expect(401);
    expect((await sessionRow(t, otherSession)).revoked_reason).toBe('reuse_detected');
    await refresh(t, staleCurrent).expect(401);

    // A session the previous release had forked: the first branch goes on in the new scheme,
    // the other is retired (401) without ending the session.
    const branch = await refresh(t, forkA).expect(200);
    await refresh(t, forkB).expect(401);
    expect((await sessionRow(t, forkedSession)).revoked_at).toBeNull();
    await refresh(t, branch.body.refresh_token).expect(200);
  }, 60_000);
});
