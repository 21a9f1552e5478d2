import {
  Controller,
  type DynamicModule,
  Get,
  type INestApplication,
  Injectable,
  Module,
} from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import {
  AuthModule,
  type AuthPrincipal,
  type AuthUserRecord,
  AuthUserStore,
  CurrentUser,
  Roles,
} from '../src/auth';
import { AuthTestKit, InMemoryAuthUserStore } from '../src/auth/testing';
import { openDatabase } from '../src/database/data-source';
import { createTestDatabase, type TestDatabase } from './support/test-database';

/** The host's production store: the tests replace it, so reaching it is a failure. */
@Injectable()
class UnreachableUserStore extends AuthUserStore {
  findByEmail(): Promise<AuthUserRecord | null> {
    return this.unreachable();
  }
  findById(): Promise<AuthUserRecord | null> {
    return this.unreachable();
  }
  create(): Promise<AuthUserRecord | null> {
    return this.unreachable();
  }
  update(): Promise<AuthUserRecord | null> {
    return this.unreachable();
  }
  private unreachable(): Promise<never> {
    return Promise.reject(new Error('the production user store was reached in a test'));
  }
}

@Module({
  providers: [{ provide: AuthUserStore, useClass: UnreachableUserStore }],
  exports: [AuthUserStore],
})
class UsersModule {}

/** The host's own routes, behind AuthModule's global guards. */
@Controller()
class OrdersController {
  @Get('orders')
  orders(@CurrentUser() user: AuthPrincipal): { user: AuthPrincipal } {
    return { user };
  }

  @Roles(['manager'])
  @Get('reports')
  reports(@CurrentUser('id') userId: string): { userId: string } {
    return { userId };
  }
}

/** A host app with a route prefix, so the kit has to find the module's routes. */
function hostModule(database: TestDatabase, refreshReuseGrace: number): DynamicModule {
  @Module({})
  class HostModule {}

  return {
    module: HostModule,
    imports: [
      TypeOrmModule.forRootAsync({
        useFactory: () => ({}),
        dataSourceFactory: () =>
          openDatabase({ url: database.url, dataDir: database.env.AUTH_DATA_DIR ?? '' }),
      }),
      UsersModule,
      AuthModule.forRootAsync({
        imports: [UsersModule],
        useFactory: () => ({
          issuer: 'https://host.example',
          cookieSecure: false,
          refreshReuseGrace,
          // Cheap hashes: these tests are about tokens, not password storage.
          passwordHashing: { memoryCost: 1024, timeCost: 1 },
        }),
        routePrefix: 'v1',
      }),
    ],
    controllers: [OrdersController],
  };
}

type AdapterFactory = () => ExpressAdapter | FastifyAdapter;

/** Builds the host app as a host's test would, over the in-memory store, and a kit on it. */
async function startHost(
  createAdapter: AdapterFactory,
  refreshReuseGrace: number,
): Promise<{ app: INestApplication; kit: AuthTestKit; database: TestDatabase }> {
  const database = await createTestDatabase();
  try {
    const moduleRef = await Test.createTestingModule({
      imports: [hostModule(database, refreshReuseGrace)],
    })
      .overrideProvider(AuthUserStore)
      .useClass(InMemoryAuthUserStore)
      .compile();
    const app = moduleRef.createNestApplication(createAdapter(), { logger: false });
    await app.init();
    return { app, kit: await AuthTestKit.create(app), database };
  } catch (error) {
    await database.drop();
    throw error;
  }
}

const ADAPTERS: [string, AdapterFactory][] = [
  ['Express', () => new ExpressAdapter()],
  ['Fastify', () => new FastifyAdapter()],
];

describe('InMemoryAuthUserStore', () => {
  const record = { passwordHash: 'hash' };

  it('finds users by email in any case, and by id', async () => {
    const store = new InMemoryAuthUserStore();
    const created = await store.create({ ...record, email: 'Ann@Example.com', roles: ['a'] });
    expect(created).toMatchObject({ email: 'ann@example.com', roles: ['a'], disabled: false });
    expect(await store.findByEmail('ANN@example.COM')).toEqual(created);
    expect(await store.findById(created!.id)).toEqual(created);
    expect(await store.findById('nobody')).toBeNull();
  });

  it('creates one user of concurrent creations with one email, whatever its case', async () => {
    const store = new InMemoryAuthUserStore();
    const emails = ['bob@example.com', 'BOB@example.com', ' Bob@Example.com ', 'bob@EXAMPLE.com'];
    const created = await Promise.all(emails.map((email) => store.create({ ...record, email })));
    expect(created.filter((user) => user !== null)).toHaveLength(1);
  });

  it('changes a user only through update, and forgets every user on clear()', async () => {
    const store = new InMemoryAuthUserStore();
    const user = (await store.create({ ...record, email: 'cy@example.com' }))!;
    user.roles.push('admin');
    expect((await store.findById(user.id))?.roles).toEqual([]);
    expect(await store.update(user.id, { roles: ['manager'], disabled: true })).toMatchObject({
      roles: ['manager'],
      disabled: true,
      passwordHash: 'hash',
    });
    expect(await store.update('nobody', { disabled: true })).toBeNull();
    store.clear();
    expect(await store.findById(user.id)).toBeNull();
    expect(await store.create({ ...record, email: 'cy@example.com' })).not.toBeNull();
  });
});

describe.each(ADAPTERS)('AuthTestKit on %s', (_adapter, createAdapter) => {
  describe('with refreshReuseGrace: 0', () => {
    let app: INestApplication;
    let kit: AuthTestKit;
    let database: TestDatabase;

    beforeAll(async () => {
      ({ app, kit, database } = await startHost(createAdapter, 0));
    });
    afterAll(async () => {
      await kit?.close();
      await database?.drop();
    });

    /** A user logged in over HTTP, with its tokens. */
    async function signIn() {
      const { user, email, password } = await kit.createUser();
      const session = await kit.login(email, password);
      expect(session.status).toBe(200);
      return {
        user,
        accessToken: session.accessToken!,
        refreshToken: session.refreshToken!,
        sessionId: session.sessionId!,
      };
    }

    it('makes the app listen on 127.0.0.1 and finds the module’s route prefix', () => {
      expect(kit.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(kit.routePrefix).toBe('/v1');
    });

    it('builds the app over the in-memory store and logs its users in', async () => {
      expect(app.get(AuthUserStore)).toBeInstanceOf(InMemoryAuthUserStore);
      const { user, email, password } = await kit.createUser({
        email: ' Dee@Example.com ',
        roles: ['manager'],
        name: 'Dee',
      });
      expect(email).toBe('dee@example.com');
      expect(user).toMatchObject({ email, roles: ['manager'], name: 'Dee', disabled: false });
      expect(user.passwordHash).toMatch(/^\$argon2id\$/);
      await expect(kit.createUser({ email: 'DEE@example.com' })).rejects.toThrow(/is taken/);

      const session = await kit.login(email, password, { device: 'laptop' });
      expect(session.status).toBe(200);
      expect(session.sessionId).toEqual(expect.any(String));
      const me = await kit.request('/v1/auth/me', { accessToken: session.accessToken });
      expect(me.body).toMatchObject({ id: user.id, email, roles: ['manager'] });
      expect((await kit.login(email, 'wrong password')).status).toBe(401);

      // A user with no options gets a unique email and a password that logs in.
      const other = await kit.createUser();
      expect(other.email).not.toBe(email);
      expect((await kit.login(other.email, other.password)).status).toBe(200);
    });

    it('mints access tokens the guard accepts, carrying the roles it is given', async () => {
      const { user } = await kit.createUser();
      expect((await kit.request('/orders')).status).toBe(401);

      const plain = await kit.accessToken({ userId: user.id });
      const orders = await kit.request<{ user: AuthPrincipal }>('/orders', { accessToken: plain });
      expect(orders.status).toBe(200);
      expect(orders.body.user).toMatchObject({
        id: user.id,
        roles: [],
        sessionId: expect.any(String),
      });
      expect((await kit.request('/reports', { accessToken: plain })).status).toBe(403);

      const manager = await kit.accessToken({ userId: user.id, roles: ['manager'] });
      const reports = await kit.request('/reports', { accessToken: manager });
      expect(reports.status).toBe(200);
      expect(reports.body).toEqual({ userId: user.id });

      // Any user id and session id: the guard looks up neither.
      const stranger = await kit.accessToken({
        userId: 'not-in-the-store',
        sessionId: '00000000-0000-4000-8000-000000000000',
      });
      const strangerOrders = await kit.request<{ user: AuthPrincipal }>('/orders', {
        accessToken: stranger,
      });
      expect(strangerOrders.body.user).toMatchObject({
        id: 'not-in-the-store',
        sessionId: '00000000-0000-4000-8000-000000000000',
      });
    });

    it('mints tokens from a skewed clock: ahead beyond the tolerance or expired is refused', async () => {
      const { user } = await kit.createUser();
      const statusWith = async (options: {
        clockSkewSeconds?: number;
        expiresInSeconds?: number;
      }) =>
        (
          await kit.request('/orders', {
            accessToken: await kit.accessToken({ userId: user.id, ...options }),
          })
        ).status;

      expect(await statusWith({ clockSkewSeconds: 600 })).toBe(401); // ten minutes ahead
      expect(await statusWith({ clockSkewSeconds: 3 })).toBe(200); // within clockTolerance (5 s)
      expect(await statusWith({ clockSkewSeconds: -600 })).toBe(200); // behind, not yet expired
      expect(await statusWith({ clockSkewSeconds: -3600 })).toBe(401); // expired 45 minutes ago
      expect(await statusWith({ clockSkewSeconds: -120, expiresInSeconds: 60 })).toBe(401);

      const refused = await kit.request('/orders', {
        accessToken: await kit.accessToken({ userId: user.id, clockSkewSeconds: 600 }),
      });
      expect(refused.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
      await expect(kit.accessToken({ userId: user.id, expiresInSeconds: 0 })).rejects.toThrow(
        RangeError,
      );
      await expect(kit.accessToken({ userId: user.id, expiresInSeconds: 901 })).rejects.toThrow(
        /accessTokenTtl \(900\)/,
      );
    });

    it('lets exactly one of concurrent refreshes of one token succeed', async () => {
      const { refreshToken } = await signIn();
      const answers = await kit.concurrentRefreshes(refreshToken, 8);
      expect(answers).toHaveLength(8);
      expect(answers.filter((answer) => answer.status === 200)).toHaveLength(1);
      expect(answers.filter((answer) => answer.status === 401)).toHaveLength(7);
      await expect(kit.concurrentRefreshes(refreshToken, 0)).rejects.toThrow(RangeError);
    });

    it('replays a rotated token: 401, and the whole session ends', async () => {
      const { accessToken, refreshToken } = await signIn();
      const { rotation, replay } = await kit.replayRotated(refreshToken);
      expect(rotation.status).toBe(200);
      expect(rotation.refreshToken).not.toBe(refreshToken);
      expect(replay.status).toBe(401);

      expect((await kit.request('/orders', { accessToken: rotation.accessToken })).status).toBe(
        401,
      );
      expect((await kit.request('/orders', { accessToken })).status).toBe(401);
      expect((await kit.refresh(rotation.refreshToken!)).status).toBe(401);
      // The token is now refused, so it cannot be rotated again.
      await expect(kit.replayRotated(refreshToken)).rejects.toThrow(/answered 401/);
    });

    it('revokes a session: its access token gets 401 at once, its refresh token too', async () => {
      const { accessToken, refreshToken, sessionId } = await signIn();
      expect((await kit.request('/orders', { accessToken })).status).toBe(200);

      expect(await kit.revokeSession(sessionId)).toBe(true);
      const refused = await kit.request('/orders', { accessToken });
      expect(refused.status).toBe(401);
      expect(refused.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
      expect((await kit.refresh(refreshToken)).status).toBe(401);

      expect(await kit.revokeSession(sessionId)).toBe(false);
      expect(await kit.revokeSession('not-a-session-id')).toBe(false);
    });

    it('logs out with a refresh token or with an access token', async () => {
      const first = await signIn();
      expect((await kit.logout({ refreshToken: first.refreshToken })).status).toBe(204);
      expect((await kit.request('/orders', { accessToken: first.accessToken })).status).toBe(401);

      const second = await signIn();
      expect((await kit.logout({ accessToken: second.accessToken })).status).toBe(204);
      expect((await kit.refresh(second.refreshToken)).status).toBe(401);

      expect((await kit.logout({})).status).toBe(401);
    });

    it('uses the cookie transport when asked, under the route prefix', async () => {
      const { email, password } = await kit.createUser();
      const login = await kit.login(email, password, { cookie: true });
      expect(login.status).toBe(200);
      expect(login.body.refresh_token).toBeUndefined();
      expect(login.refreshToken).toEqual(expect.any(String));
      expect(login.cookie).toMatch(/^refresh_token=[^;]+;/);
      expect(login.cookie).toMatch(/; Path=\/v1\/auth(;|$)/);
      expect(login.cookie).toMatch(/; HttpOnly(;|$)/);
      expect(login.cookie).toMatch(/; SameSite=Strict(;|$)/);

      const refreshed = await kit.refresh(login.refreshToken!, { cookie: true });
      expect(refreshed.status).toBe(200);
      expect(refreshed.refreshToken).not.toBe(login.refreshToken);
      // The transports differ only in where the token travels: one from a cookie works in a body.
      expect((await kit.refresh(refreshed.refreshToken!)).status).toBe(200);

      const again = await kit.login(email, password, { cookie: true });
      expect((await kit.logout({ refreshToken: again.refreshToken, cookie: true })).status).toBe(
        204,
      );
      expect((await kit.refresh(again.refreshToken!, { cookie: true })).status).toBe(401);
    });
  });

  describe('with refreshReuseGrace: 1', () => {
    let kit: AuthTestKit;
    let database: TestDatabase;

    beforeAll(async () => {
      ({ kit, database } = await startHost(createAdapter, 1));
    });
    afterAll(async () => {
      await kit?.close();
      await database?.drop();
    });

    it('replays within the grace for the same session, and after it as a reuse', async () => {
      const { email, password } = await kit.createUser();
      const { refreshToken } = await kit.login(email, password);

      const within = await kit.replayRotated(refreshToken!);
      expect(within.replay.status).toBe(200);
      expect(within.replay.sessionId).toBe(within.rotation.sessionId);
      // One chain: the replay is answered the same successor, with an access token of its own.
      expect(within.replay.refreshToken).toBe(within.rotation.refreshToken);
      expect(within.replay.accessToken).not.toBe(within.rotation.accessToken);

      const after = await kit.replayRotated(within.rotation.refreshToken!, { afterGrace: true });
      expect(after.rotation.status).toBe(200);
      expect(after.replay.status).toBe(401);
      expect((await kit.refresh(after.rotation.refreshToken!)).status).toBe(401);
    });
  });
});
