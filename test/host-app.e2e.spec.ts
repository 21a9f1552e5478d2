import { Controller, Get, Module, type DynamicModule, UseGuards } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import { TypeOrmModule } from '@nestjs/typeorm';
import {
  AuthModule,
  type AuthPrincipal,
  AuthUserStore,
  CurrentUser,
  JwtAuthGuard,
  Public,
  Roles,
  RolesGuard,
} from '../src/auth';
import { JwtStrategy } from '../src/auth/strategies';
import { InMemoryAuthUserStore } from '../src/auth/testing';
import { createApp } from '../src/app.setup';
import { openDatabase } from '../src/database/data-source';
import {
  decodeJwt,
  getWithBearer,
  login,
  PASSWORD,
  refresh,
  signUp,
  uniqueEmail,
} from './support/auth-client';
import { initTestApp, type TestApp } from './support/test-app';
import { createTestDatabase, type TestDatabase } from './support/test-database';

@Module({
  providers: [{ provide: AuthUserStore, useClass: InMemoryAuthUserStore }],
  exports: [AuthUserStore],
})
class MemoryUsersModule {}

/** Host routes behind AuthModule's global guards. */
@Controller()
class HostController {
  @Get('orders')
  orders(@CurrentUser() user: AuthPrincipal): { user: AuthPrincipal } {
    return { user };
  }

  @Roles(['manager'])
  @Get('reports')
  reports(@CurrentUser('id') userId: string): { userId: string } {
    return { userId };
  }

  @Public()
  @Get('status')
  status(@CurrentUser() user: AuthPrincipal | undefined): {
    status: string;
    userId: string | null;
  } {
    return { status: 'up', userId: user?.id ?? null };
  }
}

/** Host routes when AuthModule installs no global guard: the host guards what it wants. */
@Controller()
class OpenHostController {
  @Get('catalog')
  catalog(): { items: string[] } {
    return { items: ['tea', 'cake'] };
  }

  @UseGuards(JwtAuthGuard)
  @Get('account')
  account(@CurrentUser('id') userId: string): { userId: string } {
    return { userId };
  }

  /** The passport route: `AuthGuard('jwt')` runs the module's JwtStrategy. */
  @UseGuards(AuthGuard('jwt'))
  @Get('passport')
  passport(@CurrentUser() user: AuthPrincipal): AuthPrincipal {
    return user;
  }

  @UseGuards(JwtAuthGuard, RolesGuard)
  @Roles(['manager'])
  @Get('manage')
  manage(@CurrentUser('id') userId: string): { userId: string } {
    return { userId };
  }
}

const ISSUER = 'https://host.example';

/** A host root module: its own database connection, its own users, AuthModule. */
function hostModule(database: TestDatabase, options: { globalGuard: boolean }): DynamicModule {
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
      MemoryUsersModule,
      AuthModule.forRootAsync({
        imports: [MemoryUsersModule],
        useFactory: () => ({ issuer: ISSUER, cookieSecure: false }),
        globalGuard: options.globalGuard,
      }),
    ],
    controllers: [options.globalGuard ? HostController : OpenHostController],
    // The passport strategy is the host's to register (nest-token-auth/passport).
    providers: options.globalGuard ? [] : [JwtStrategy],
  };
}

interface HostApp extends TestApp {
  store: InMemoryAuthUserStore;
}

async function startHostApp(
  database: TestDatabase,
  options: { globalGuard: boolean },
): Promise<HostApp> {
  const t = await initTestApp(await createApp(hostModule(database, options), { logger: false }));
  return { ...t, store: t.app.get(AuthUserStore) };
}

/** Registers a host user and logs in. */
function signUpHost(t: HostApp) {
  return signUp(t, uniqueEmail('host'));
}

describe('a host app with its own user store and AuthModule.forRootAsync', () => {
  let database: TestDatabase;
  let t: HostApp;

  beforeAll(async () => {
    database = await createTestDatabase();
    t = await startHostApp(database, { globalGuard: true });
  });
  afterAll(async () => {
    await t?.close();
    await database.drop();
  });

  it('uses the memory store as its AuthUserStore', () => {
    expect(t.store).toBeInstanceOf(InMemoryAuthUserStore);
  });

  it('registers and logs in through the memory store, not the users table', async () => {
    const email = uniqueEmail('Host');
    const registered = await t.http().post('/auth/register').send({ email, password: PASSWORD });
    expect(registered.status).toBe(201);
    expect(registered.body).toEqual({
      id: expect.any(String),
      email: email.toLowerCase(),
      name: null,
      roles: [],
      createdAt: expect.any(String),
    });
    const stored = await t.store.findById(registered.body.id);
    expect(stored).toMatchObject({ email: email.toLowerCase(), disabled: false });
    expect(stored?.passwordHash).toMatch(/^\$argon2id\$/);

    await t.http().post('/auth/register').send({ email, password: PASSWORD }).expect(409);

    const tokens = await login(t, email);
    const me = await getWithBearer(t, '/auth/me', tokens.access_token);
    expect(me.status).toBe(200);
    expect(me.body).toEqual(registered.body);

    await t.http().post('/auth/login').send({ email, password: 'wrong password' }).expect(401);
    expect(await t.dataSource.query('SELECT count(*)::int AS count FROM users')).toEqual([
      { count: 0 },
    ]);
  });

  it('issues access tokens with the configured issuer', async () => {
    const { id, tokens } = await signUpHost(t);
    const { header, payload } = decodeJwt(tokens.access_token);
    expect(header).toEqual({ alg: 'ES256', typ: 'at+jwt', kid: expect.any(String) });
    expect(payload).toMatchObject({ iss: ISSUER, aud: 'api', sub: id, roles: [] });
  });

  it('guards host routes with a bearer token and hands them the current user', async () => {
    const { id, tokens } = await signUpHost(t);
    const missing = await t.http().get('/orders');
    expect(missing.status).toBe(401);
    expect(missing.headers['www-authenticate']).toBe('Bearer');

    const bad = await getWithBearer(t, '/orders', `${tokens.access_token}x`);
    expect(bad.status).toBe(401);
    expect(bad.headers['www-authenticate']).toBe('Bearer error="invalid_token"');

    const response = await getWithBearer(t, '/orders', tokens.access_token);
    expect(response.status).toBe(200);
    expect(response.body.user).toEqual({
      id,
      sessionId: tokens.session_id,
      roles: [],
      tokenId: decodeJwt(tokens.access_token).payload.jti,
      expiresAt: decodeJwt(tokens.access_token).payload.exp,
    });
  });

  it('answers 403 on a roles route until the store gives the user the role', async () => {
    const { id, email, tokens } = await signUpHost(t);
    await t.http().get('/reports').expect(401);
    await getWithBearer(t, '/reports', tokens.access_token).expect(403);

    await t.store.update(id, { roles: ['manager'] });
    // A login reads the roles from the store.
    const relogged = await login(t, email);
    expect(decodeJwt(relogged.access_token).payload.roles).toEqual(['manager']);
    const response = await getWithBearer(t, '/reports', relogged.access_token);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ userId: id });

    // So does a refresh (readUserOnRefresh, the default): the host's own change is seen.
    const refreshed = await refresh(t, tokens.refresh_token).expect(200);
    await getWithBearer(t, '/reports', refreshed.body.access_token).expect(200);

    // A user the host disables in its own store loses the session at its next refresh.
    await t.store.update(id, { disabled: true });
    await refresh(t, refreshed.body.refresh_token).expect(401);
    await getWithBearer(t, '/reports', refreshed.body.access_token).expect(401);
  });

  it('lets anyone reach a @Public() host route, and tells it the caller when there is one', async () => {
    const anonymous = await t.http().get('/status');
    expect(anonymous.status).toBe(200);
    expect(anonymous.body).toEqual({ status: 'up', userId: null });

    const { id, tokens } = await signUpHost(t);
    const signedIn = await getWithBearer(t, '/status', tokens.access_token);
    expect(signedIn.body).toEqual({ status: 'up', userId: id });

    const badToken = await getWithBearer(t, '/status', 'not.a.token');
    expect(badToken.status).toBe(200);
    expect(badToken.body).toEqual({ status: 'up', userId: null });
  });
});

describe('a host app with globalGuard: false', () => {
  let database: TestDatabase;
  let t: HostApp;

  beforeAll(async () => {
    database = await createTestDatabase();
    t = await startHostApp(database, { globalGuard: false });
  });
  afterAll(async () => {
    await t?.close();
    await database.drop();
  });

  it('leaves a host route without guards open', async () => {
    const response = await t.http().get('/catalog');
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ items: ['tea', 'cake'] });
  });

  it('lets the host apply JwtAuthGuard to a route itself', async () => {
    const missing = await t.http().get('/account');
    expect(missing.status).toBe(401);
    expect(missing.headers['www-authenticate']).toBe('Bearer');

    const bad = await getWithBearer(t, '/account', 'not.a.token');
    expect(bad.status).toBe(401);
    expect(bad.headers['www-authenticate']).toBe('Bearer error="invalid_token"');

    const { id, tokens } = await signUpHost(t);
    const response = await getWithBearer(t, '/account', tokens.access_token);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ userId: id });
  });

  it('keeps /auth/me behind the bearer token', async () => {
    const missing = await t.http().get('/auth/me');
    expect(missing.status).toBe(401);
    const { id, tokens } = await signUpHost(t);
    const response = await getWithBearer(t, '/auth/me', tokens.access_token);
    expect(response.status).toBe(200);
    expect(response.body.id).toBe(id);
  });

  it('ends the session on POST /auth/logout with a bearer token', async () => {
    const { tokens } = await signUpHost(t);
    await t
      .http()
      .post('/auth/logout')
      .set('Authorization', `Bearer ${tokens.access_token}`)
      .expect(204);
    await refresh(t, tokens.refresh_token).expect(401);
  });

  it('offers the passport strategy to hosts that use AuthGuard("jwt")', async () => {
    await t.http().get('/passport').expect(401);
    await getWithBearer(t, '/passport', 'not.a.token').expect(401);
    const { id, tokens } = await signUpHost(t);
    const response = await getWithBearer(t, '/passport', tokens.access_token);
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ id, sessionId: tokens.session_id, roles: [] });
    // The strategy applies the verifier's checks, revocation included.
    await t.http().post('/auth/logout').send({ refresh_token: tokens.refresh_token }).expect(204);
    await getWithBearer(t, '/passport', tokens.access_token).expect(401);
  });

  it('lets the host apply RolesGuard with @Roles() itself', async () => {
    const { id, email, tokens } = await signUpHost(t);
    await t.http().get('/manage').expect(401);
    await getWithBearer(t, '/manage', tokens.access_token).expect(403);
    await t.store.update(id, { roles: ['manager'] });
    await getWithBearer(t, '/manage', (await login(t, email)).access_token).expect(200);
  });
});
