import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { AuthUserStore } from 'nest-token-auth';
import { AuthTestKit, InMemoryAuthUserStore } from 'nest-token-auth/testing';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { DataSource } from 'typeorm';
import { AppModule } from '../src/app.module.js';
import { createTestApp, initApp } from './support.js';

describe('nest-token-auth/testing against the host app', () => {
  let app: NestFastifyApplication;
  let kit: AuthTestKit;

  before(async () => {
    app = await createTestApp();
    kit = await AuthTestKit.create(app);
  });
  after(async () => {
    await kit?.close();
  });

  it('mints a manager token without a login, and the role decides', async () => {
    const userId = randomUUID();
    const manager = await kit.accessToken({ userId, roles: ['manager'] });
    const report = await kit.request('/orders/report', { accessToken: manager });
    assert.equal(report.status, 200);
    assert.deepEqual(report.body, { report: 'all orders', managerId: userId });

    const clerk = await kit.accessToken({ userId, roles: ['clerk'] });
    assert.equal((await kit.request('/orders/report', { accessToken: clerk })).status, 403);

    const expired = await kit.accessToken({ userId, clockSkewSeconds: -3600 });
    assert.equal((await kit.request('/orders/mine', { accessToken: expired })).status, 401);
  });

  it('creates users in the host accounts table and logs them in', async () => {
    const { user, email, password } = await kit.createUser({ roles: ['manager'] });
    const rows: unknown = await app
      .get(DataSource)
      .query('SELECT email, roles FROM accounts WHERE id = $1', [user.id]);
    assert.deepEqual(rows, [{ email, roles: ['manager'] }]);

    const session = await kit.login(email, password);
    assert.equal(session.status, 200);
    const order = await kit.request('/orders', {
      accessToken: session.accessToken,
      body: { item: 'cake', quantity: 2 },
    });
    assert.equal(order.status, 201);
    assert.deepEqual(order.body, { item: 'cake', quantity: 2, orderedBy: user.id });
  });

  it('of N concurrent refreshes of one token, exactly one succeeds (grace 0)', async () => {
    const { email, password } = await kit.createUser();
    const { refreshToken } = await kit.login(email, password);
    assert.ok(refreshToken);
    const answers = await kit.concurrentRefreshes(refreshToken, 8);
    assert.deepEqual(
      answers.map((answer) => answer.status).sort(),
      [200, 401, 401, 401, 401, 401, 401, 401],
    );
  });

  it('sees a replayed rotated token end the session, and a revoked session lock out', async () => {
    const { email, password } = await kit.createUser();
    const first = await kit.login(email, password, { cookie: true });
    assert.ok(first.cookie?.includes('HttpOnly'));
    const { rotation, replay } = await kit.replayRotated(first.refreshToken!, { cookie: true });
    assert.equal(replay.status, 401);
    assert.equal((await kit.refresh(rotation.refreshToken!, { cookie: true })).status, 401);

    const second = await kit.login(email, password);
    assert.equal(
      (await kit.request('/orders/mine', { accessToken: second.accessToken })).status,
      200,
    );
    assert.equal(await kit.revokeSession(second.sessionId!), true);
    assert.equal(
      (await kit.request('/orders/mine', { accessToken: second.accessToken })).status,
      401,
    );
    assert.equal((await kit.logout({ refreshToken: second.refreshToken })).status, 204);
  });
});

describe('InMemoryAuthUserStore in place of the host store', () => {
  let kit: AuthTestKit;

  before(async () => {
    process.env.AUTH_REFRESH_REUSE_GRACE = '0';
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] })
      .overrideProvider(AuthUserStore)
      .useClass(InMemoryAuthUserStore)
      .compile();
    const app = await initApp(
      moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), {
        logger: false,
      }),
    );
    kit = await AuthTestKit.create(app);
  });
  after(async () => {
    await kit?.close();
  });

  it('keeps users in memory, out of the accounts table', async () => {
    const { user, email, password } = await kit.createUser();
    assert.ok(kit.app.get(AuthUserStore) instanceof InMemoryAuthUserStore);
    const rows: unknown = await kit.app
      .get(DataSource)
      .query('SELECT count(*)::int AS count FROM accounts WHERE id = $1', [user.id]);
    assert.deepEqual(rows, [{ count: 0 }]);
    const session = await kit.login(email, password);
    const mine = await kit.request('/orders/mine', { accessToken: session.accessToken });
    assert.deepEqual(mine.body, { userId: user.id, roles: [] });
  });
});
