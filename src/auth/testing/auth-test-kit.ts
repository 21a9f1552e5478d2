import type { Abstract, INestApplication } from '@nestjs/common';
import { ApplicationConfig } from '@nestjs/core';
import { randomBytes, randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import {
  AUTH_OPTIONS,
  AUTH_ROUTE_PREFIX,
  AUTH_TRANSPORT_HEADER,
  REFRESH_COOKIE_NAME,
} from '../auth.constants';
import type { ResolvedAuthOptions } from '../interfaces/auth-module-options.interface';
import { PasswordHasher } from '../passwords/password-hasher.service';
import { SessionsService } from '../sessions/sessions.service';
import { AccessTokenService } from '../tokens/access-token.service';
import type { TokenResponse } from '../tokens/token-response';
import { type AuthUserRecord, AuthUserStore } from '../users/auth-user-store';

/**
 * Options of `AuthTestKit.create()`.
 * @publicApi
 */
export interface AuthTestKitOptions {
  /**
   * The path in front of the module's routes: with `'/api'` the kit logs in at
   * `POST /api/auth/login`. Pass it when the app's global prefix excludes the module's routes.
   * @default the app's global prefix, then the module's `routePrefix` extra
   */
  routePrefix?: string;
  /**
   * Where the app is reached, e.g. `'http://127.0.0.1:3000'`.
   * @default the address the app listens on; one on 127.0.0.1 with a free port when it does not
   * listen yet
   */
  baseUrl?: string;
}

/**
 * What `createUser()` stores; every field is optional.
 * @publicApi
 */
export interface AuthTestUserOptions {
  /** @default a unique address, `user-<uuid>@example.com` */
  email?: string;
  /** @default a random 22-character password */
  password?: string;
  /** @default [] */
  roles?: string[];
  /** @default null */
  name?: string;
}

/**
 * A user `createUser()` stored, with the credentials to log in as them.
 * @publicApi
 */
export interface AuthTestUser {
  user: AuthUserRecord;
  /** The email as stored: trimmed and lower-cased. */
  email: string;
  password: string;
}

/**
 * The claims of an access token from `accessToken()`.
 * @publicApi
 */
export interface AuthTestAccessTokenOptions {
  /** `sub`: any id; the guard does not look the user up. */
  userId: string;
  /** `roles`, which `@Roles()` checks. @default [] */
  roles?: string[];
  /** `sid`. @default a new UUID, the id of no stored session */
  sessionId?: string;
  /**
   * Seconds from the issue instant to `exp`, 1 to the module's `accessTokenTtl`.
   * @default the module's `accessTokenTtl`
   */
  expiresInSeconds?: number;
  /**
   * How far the issuer's clock is off, in seconds: the token is issued (`iat`, and `exp` with
   * it) as if it were now plus this many seconds. `600` is a token from an issuer ten minutes
   * ahead; `-3600` one issued an hour ago, expired unless `accessTokenTtl` is longer.
   * @default 0
   */
  clockSkewSeconds?: number;
}

/**
 * A request of `request()`.
 * @publicApi
 */
export interface AuthTestRequest {
  /** @default 'GET', or 'POST' when there is a body */
  method?: string;
  /** Sent as `Authorization: Bearer <accessToken>`. */
  accessToken?: string;
  /** A string is sent as it is; anything else as JSON with `Content-Type: application/json`. */
  body?: unknown;
  headers?: Record<string, string>;
}

/**
 * An HTTP answer: the status, the headers and the body (parsed when it is JSON, `null` when
 * empty, else text).
 * @publicApi
 */
export interface AuthTestResponse<TBody = unknown> {
  status: number;
  headers: Headers;
  body: TBody;
}

/**
 * How `refresh()`, `concurrentRefreshes()` and `replayRotated()` present the refresh token.
 * @publicApi
 */
export interface AuthTestRefreshOptions {
  /**
   * Use the cookie transport: the token goes in the `refresh_token` cookie with
   * `Auth-Transport: cookie`, and the new one comes back in `Set-Cookie`.
   * @default false (the token travels in the JSON body)
   */
  cookie?: boolean;
  /** `device_id`, for sessions bound to a device (`refreshBinding: 'device'`). */
  deviceId?: string;
}

/**
 * Options of `login()`.
 * @publicApi
 */
export interface AuthTestLoginOptions extends AuthTestRefreshOptions {
  /** `device`: the name shown in the session list. */
  device?: string;
}

/**
 * The answer of a login or refresh, with the tokens picked out of the body or the cookie.
 * On a failure only `status`, `headers` and `body` are set.
 * @publicApi
 */
export interface AuthTestTokenResponse extends AuthTestResponse<
  Partial<TokenResponse> & Record<string, unknown>
> {
  accessToken?: string;
  /** From the body, or from the cookie with the cookie transport. */
  refreshToken?: string;
  sessionId?: string;
  /** The `Set-Cookie` line of the `refresh_token` cookie, attributes included. */
  cookie?: string;
}

/**
 * Options of `replayRotated()`.
 * @publicApi
 */
export interface AuthTestReplayOptions extends AuthTestRefreshOptions {
  /**
   * Wait until the module's `refreshReuseGrace` has passed before presenting the rotated token
   * again, so that it counts as a reuse. Configure `refreshReuseGrace: 0` in tests to see reuse
   * detection without waiting.
   * @default false
   */
  afterGrace?: boolean;
}

/**
 * What `replayRotated()` saw: the refresh that rotated the token, then the replay of it.
 * @publicApi
 */
export interface AuthTestReplay {
  rotation: AuthTestTokenResponse;
  replay: AuthTestTokenResponse;
}

/**
 * What `logout()` presents; with none of them the module answers 401.
 * @publicApi
 */
export interface AuthTestLogoutOptions {
  refreshToken?: string;
  /** Ends the session of this access token when no refresh token is given. */
  accessToken?: string;
  /** Present the refresh token in the cookie (`Auth-Transport: cookie`). @default false */
  cookie?: boolean;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Drives a host app's `AuthModule` from the host's own tests: users in its `AuthUserStore`,
 * access tokens for any user and roles without a login, and the hard cases over real HTTP
 * (global `fetch`) against the app's own routes: concurrent refreshes of one token, the replay
 * of a rotated token, a revoked session, a skewed clock. Nothing is mocked: the kit calls the
 * module's own services and routes. Works on Express and Fastify.
 *
 * @example
 * const moduleRef = await Test.createTestingModule({ imports: [AppModule] })
 *   .overrideProvider(AuthUserStore)
 *   .useClass(InMemoryAuthUserStore)
 *   .compile();
 * const app = await moduleRef.createNestApplication().init();
 * const kit = await AuthTestKit.create(app);
 *
 * const token = await kit.accessToken({ userId: 'u1', roles: ['manager'] });
 * expect((await kit.request('/reports', { accessToken: token })).status).toBe(200);
 *
 * const { email, password } = await kit.createUser();
 * const { refreshToken } = await kit.login(email, password);
 * const { replay } = await kit.replayRotated(refreshToken!); // with refreshReuseGrace: 0
 * expect(replay.status).toBe(401);
 *
 * await kit.close();
 * @publicApi
 */
export class AuthTestKit {
  private closed = false;

  private constructor(
    /** The app under test. */
    readonly app: INestApplication,
    /** Its base URL, e.g. `http://127.0.0.1:41234`. */
    readonly url: string,
    /** The path in front of the module's routes: `''` or e.g. `'/api'`. */
    readonly routePrefix: string,
    private readonly options: ResolvedAuthOptions,
    private readonly users: AuthUserStore,
    private readonly passwords: PasswordHasher,
    private readonly accessTokens: AccessTokenService,
    private readonly sessions: SessionsService,
  ) {}

  /**
   * A kit for an app that imports `AuthModule`. When the app does not listen yet, the kit makes
   * it listen on 127.0.0.1 on a free port (which initialises it, if needed).
   *
   * @example
   * const kit = await AuthTestKit.create(app);
   * const kit = await AuthTestKit.create(app, { routePrefix: '/api' });
   */
  static async create(
    app: INestApplication,
    options: AuthTestKitOptions = {},
  ): Promise<AuthTestKit> {
    const authOptions = resolve<ResolvedAuthOptions>(app, AUTH_OPTIONS, 'AuthModule');
    const users = resolve<AuthUserStore>(app, AuthUserStore, 'an AuthUserStore provider');
    const url = options.baseUrl ?? (await listeningUrl(app));
    return new AuthTestKit(
      app,
      url.replace(/\/+$/, ''),
      normalizePrefix(options.routePrefix ?? defaultRoutePrefix(app)),
      authOptions,
      users,
      resolve(app, PasswordHasher, 'AuthModule'),
      resolve(app, AccessTokenService, 'AuthModule'),
      resolve(app, SessionsService, 'AuthModule'),
    );
  }

  /**
   * Stores a user through the app's `AuthUserStore`, its password hashed by the module's
   * `PasswordHasher`, and returns it with the credentials to log in.
   *
   * @example
   * const { user, email, password } = await kit.createUser({ roles: ['manager'] });
   */
  async createUser(options: AuthTestUserOptions = {}): Promise<AuthTestUser> {
    const email = (options.email ?? `user-${randomUUID()}@example.com`).trim().toLowerCase();
    const password = options.password ?? randomBytes(16).toString('base64url');
    const user = await this.users.create({
      email,
      passwordHash: await this.passwords.hash(password),
      name: options.name ?? null,
      roles: [...(options.roles ?? [])],
    });
    if (!user) {
      throw new Error(
        `AuthTestKit.createUser: ${email} is taken in the app's AuthUserStore; leave out \`email\` to get a unique one.`,
      );
    }
    return { user, email, password };
  }

  /**
   * An access token the app's guard accepts, signed with the app's current key, for any user,
   * roles and session, without a login. `sessionId` defaults to the id of no stored session, so
   * the token stays valid until it expires. Give `clockSkewSeconds` for a token from an issuer
   * whose clock is off: one ahead by more than the module's `clockTolerance` is refused, as is
   * one that has expired.
   *
   * @example
   * const token = await kit.accessToken({ userId: user.id, roles: ['manager'] });
   * const fromTheFuture = await kit.accessToken({ userId: user.id, clockSkewSeconds: 600 });
   * const expired = await kit.accessToken({ userId: user.id, clockSkewSeconds: -3600 });
   */
  accessToken(options: AuthTestAccessTokenOptions): Promise<string> {
    const ttl = this.options.accessTokenTtl;
    const lifetime = options.expiresInSeconds ?? ttl;
    if (!Number.isInteger(lifetime) || lifetime < 1 || lifetime > ttl) {
      return Promise.reject(
        new RangeError(
          `AuthTestKit.accessToken: expiresInSeconds must be a whole number from 1 to the module's accessTokenTtl (${ttl}); for an expired token, set clockSkewSeconds below minus its lifetime.`,
        ),
      );
    }
    const issuedAt = new Date(Date.now() + (options.clockSkewSeconds ?? 0) * 1000);
    const { token } = this.accessTokens.issue(
      {
        userId: options.userId,
        sessionId: options.sessionId ?? randomUUID(),
        roles: [...(options.roles ?? [])],
      },
      new Date(issuedAt.getTime() + lifetime * 1000),
      issuedAt,
    );
    return Promise.resolve(token);
  }

  /**
   * Sends a request to the app: `path` is relative to its base URL, `accessToken` goes in the
   * `Authorization` header.
   *
   * @example
   * const { status, body } = await kit.request('/orders', { accessToken: token });
   * await kit.request('/orders', { method: 'POST', accessToken: token, body: { item: 'tea' } });
   */
  async request<TBody = unknown>(
    path: string,
    request: AuthTestRequest = {},
  ): Promise<AuthTestResponse<TBody>> {
    const headers = new Headers(request.headers);
    if (request.accessToken !== undefined) {
      headers.set('authorization', `Bearer ${request.accessToken}`);
    }
    let body: string | undefined;
    if (request.body !== undefined) {
      body = typeof request.body === 'string' ? request.body : JSON.stringify(request.body);
      if (!headers.has('content-type')) headers.set('content-type', 'application/json');
    }
    const response = await fetch(`${this.url}${path.startsWith('/') ? '' : '/'}${path}`, {
      method: request.method ?? (body === undefined ? 'GET' : 'POST'),
      headers,
      body,
      redirect: 'manual',
    });
    const text = await response.text();
    return {
      status: response.status,
      headers: response.headers,
      body: parseBody(text, response.headers) as TBody,
    };
  }

  /**
   * `POST <prefix>/auth/login` over HTTP. A failure is not thrown: read `status`.
   *
   * @example
   * const { accessToken, refreshToken, sessionId } = await kit.login(email, password);
   * const browser = await kit.login(email, password, { cookie: true }); // browser.cookie
   */
  login(
    email: string,
    password: string,
    options: AuthTestLoginOptions = {},
  ): Promise<AuthTestTokenResponse> {
    return this.exchange(
      'login',
      { email, password, device: options.device, device_id: options.deviceId },
      options.cookie ?? false,
    );
  }

  /**
   * `POST <prefix>/auth/refresh` with this refresh token. A failure is not thrown: read `status`.
   *
   * @example
   * const next = await kit.refresh(refreshToken);
   * expect(next.refreshToken).not.toBe(refreshToken); // rotated
   */
  refresh(
    refreshToken: string,
    options: AuthTestRefreshOptions = {},
  ): Promise<AuthTestTokenResponse> {
    const cookie = options.cookie ?? false;
    return this.exchange(
      'refresh',
      { refresh_token: cookie ? undefined : refreshToken, device_id: options.deviceId },
      cookie,
      cookie ? refreshToken : undefined,
    );
  }

  /**
   * Sends `n` refreshes of one refresh token at the same moment and returns every answer, in
   * the order sent. With `refreshReuseGrace: 0` exactly one is 200; the others present a token
   * rotated meanwhile, a reuse, which ends the session.
   *
   * @example
   * const answers = await kit.concurrentRefreshes(refreshToken, 10);
   * expect(answers.filter((a) => a.status === 200)).toHaveLength(1);
   */
  concurrentRefreshes(
    refreshToken: string,
    n: number,
    options: AuthTestRefreshOptions = {},
  ): Promise<AuthTestTokenResponse[]> {
    if (!Number.isInteger(n) || n < 1) {
      return Promise.reject(
        new RangeError('AuthTestKit.concurrentRefreshes: n must be a whole number of at least 1.'),
      );
    }
    return Promise.all(Array.from({ length: n }, () => this.refresh(refreshToken, options)));
  }

  /**
   * Refreshes with this token (which rotates it), then presents the same, now rotated, token
   * again: a stolen copy used after the owner refreshed. Past the module's `refreshReuseGrace`
   * (at once when it is 0; after waiting for it with `afterGrace`) the replay answers 401 and
   * ends the whole session; within it (concurrent tabs), the replay is answered 200 with the
   * same refresh token the rotation returned (one chain) and a fresh access token.
   * Throws when the first refresh does not answer 200.
   *
   * @example
   * const { rotation, replay } = await kit.replayRotated(refreshToken);
   * expect(replay.status).toBe(401);
   * expect((await kit.refresh(rotation.refreshToken!)).status).toBe(401); // session ended
   */
  async replayRotated(
    refreshToken: string,
    options: AuthTestReplayOptions = {},
  ): Promise<AuthTestReplay> {
    const rotation = await this.refresh(refreshToken, options);
    if (rotation.status !== 200) {
      throw new Error(
        `AuthTestKit.replayRotated: the refresh that should rotate the token answered ${rotation.status} (${JSON.stringify(rotation.body)}); pass a live refresh token.`,
      );
    }
    if (options.afterGrace && this.options.refreshReuseGrace > 0) {
      // The grace is counted from the rotation, which happened before its answer arrived.
      await sleep(this.options.refreshReuseGrace * 1000 + 20);
    }
    const replay = await this.refresh(refreshToken, options);
    return { rotation, replay };
  }

  /**
   * Ends a session through the module's `SessionsService`, as `DELETE /auth/sessions/:id`
   * does: its refresh token stops working, and its access tokens get 401 on this instance at
   * once (other instances hear of it through the revocation feed). True when it was active.
   *
   * @example
   * expect(await kit.revokeSession(sessionId)).toBe(true);
   * expect((await kit.request('/orders', { accessToken })).status).toBe(401);
   */
  async revokeSession(sessionId: string): Promise<boolean> {
    // A session id is a UUID; anything else names no session (and PostgreSQL would refuse it).
    if (!UUID.test(sessionId)) return false;
    return this.sessions.end(sessionId, 'session_deleted');
  }

  /**
   * `POST <prefix>/auth/logout` with a refresh token (body or cookie) or an access token.
   *
   * @example
   * expect((await kit.logout({ refreshToken })).status).toBe(204);
   * await kit.logout({ accessToken });
   */
  logout(credentials: AuthTestLogoutOptions): Promise<AuthTestResponse> {
    const headers: Record<string, string> = {};
    if (credentials.cookie) {
      headers[AUTH_TRANSPORT_HEADER] = 'cookie';
      if (credentials.refreshToken !== undefined) {
        headers.cookie = `${REFRESH_COOKIE_NAME}=${credentials.refreshToken}`;
      }
    }
    return this.request(this.authPath('logout'), {
      method: 'POST',
      accessToken: credentials.accessToken,
      body: { refresh_token: credentials.cookie ? undefined : credentials.refreshToken },
      headers,
    });
  }

  /**
   * Closes the app, and with it the HTTP server the kit may have started: the same as
   * `app.close()`; call one of the two. A second call does nothing.
   *
   * @example
   * afterAll(() => kit.close());
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.app.close();
  }

  private authPath(route: string): string {
    return `${this.routePrefix}/auth/${route}`;
  }

  private async exchange(
    route: 'login' | 'refresh',
    body: Record<string, string | undefined>,
    cookieTransport: boolean,
    presentedCookie?: string,
  ): Promise<AuthTestTokenResponse> {
    const headers: Record<string, string> = {};
    if (cookieTransport) headers[AUTH_TRANSPORT_HEADER] = 'cookie';
    if (presentedCookie !== undefined) {
      headers.cookie = `${REFRESH_COOKIE_NAME}=${presentedCookie}`;
    }
    const response = await this.request<AuthTestTokenResponse['body']>(this.authPath(route), {
      method: 'POST',
      body,
      headers,
    });
    if (response.status !== 200) return response;
    const cookie = response.headers
      .getSetCookie()
      .find((line) => line.startsWith(`${REFRESH_COOKIE_NAME}=`));
    const fromCookie = cookie?.slice(REFRESH_COOKIE_NAME.length + 1).split(';')[0];
    return {
      ...response,
      accessToken: response.body.access_token,
      refreshToken: response.body.refresh_token ?? (fromCookie || undefined),
      sessionId: response.body.session_id,
      cookie,
    };
  }
}

/** A provider of the app, or a sentence saying what the app lacks. */
function resolve<T>(app: INestApplication, token: Abstract<T> | symbol, what: string): T {
  try {
    return app.get<T>(token, { strict: false });
  } catch {
    const name = typeof token === 'symbol' ? token.description : token.name;
    throw new Error(
      `AuthTestKit.create: the app has no ${name}; it needs ${what} (import AuthModule.forRoot() or forRootAsync(), and bind AuthUserStore, for example to InMemoryAuthUserStore).`,
    );
  }
}

/** The app's base URL; the app is made to listen on 127.0.0.1, port 0, when it does not. */
async function listeningUrl(app: INestApplication): Promise<string> {
  if (!(app.getHttpServer() as Server).listening) await app.listen(0, '127.0.0.1');
  const address = (app.getHttpServer() as Server).address();
  if (address === null || typeof address === 'string') {
    throw new Error(
      'AuthTestKit.create: the app listens on a pipe or socket path, not a TCP port; pass `baseUrl`.',
    );
  }
  const host =
    address.address === '0.0.0.0' || address.address === '::'
      ? '127.0.0.1'
      : address.family === 'IPv6'
        ? `[${address.address}]`
        : address.address;
  return `http://${host}:${address.port}`;
}

/** The app's global prefix followed by the module's `routePrefix` extra. */
function defaultRoutePrefix(app: INestApplication): string {
  const modulePrefix = app.get<string>(AUTH_ROUTE_PREFIX, { strict: false });
  let globalPrefix = '';
  try {
    globalPrefix = app.get(ApplicationConfig).getGlobalPrefix();
  } catch {
    // An app context without one: no global prefix.
  }
  return `${normalizePrefix(globalPrefix)}${modulePrefix}`;
}

/** `'api/'` and `'/api'` both become `'/api'`; empty stays empty. */
function normalizePrefix(prefix: string): string {
  const trimmed = prefix.replace(/^\/+|\/+$/g, '');
  return trimmed ? `/${trimmed}` : '';
}

function parseBody(text: string, headers: Headers): unknown {
  if (text === '') return null;
  if (/\bjson\b/i.test(headers.get('content-type') ?? '')) {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text;
    }
  }
  return text;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
