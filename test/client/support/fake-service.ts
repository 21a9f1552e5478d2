import type { FakeClock } from './fake-clock';

export const BASE_URL = 'https://auth.example.test';
export const EMAIL = 'ann@example.com';
export const PASSWORD = 'correct horse battery';

/** One request as the fake service saw it. */
export interface SeenRequest {
  method: string;
  path: string;
  headers: Headers;
  credentials: RequestCredentials;
  body: string;
  /** The access token of an `Authorization: Bearer` header. */
  bearer: string | null;
  /** The service's clock when the request arrived. */
  at: number;
  /** The `refresh_token` cookie the browser attached when the request was sent. */
  cookie: string | null;
}

/** Replaces the service's own answer to one request; return undefined to let it answer. */
export type Override = (request: SeenRequest) => Response | undefined;

interface Session {
  id: string;
  device: string | null;
  deviceId: string | null;
  refreshToken: string;
  rotated: Set<string>;
  revoked: boolean;
}

function base64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  });
}

/**
 * The nest-token-auth HTTP contract in a function, for the SDK's unit tests: a `fetch` that
 * answers from memory on the fake clock (shifted by `skewMs`: the server's clock). It keeps one
 * browser cookie jar, as the tabs of one browser share it.
 */
export class FakeService {
  readonly requests: SeenRequest[] = [];
  /** Consulted first, one per matching request, in order. */
  readonly overrides: Override[] = [];
  accessTtl = 900;
  sessionTtl = 1_209_600;
  /** Answer 401 `invalid_token` to every bearer request, however fresh the token. */
  rejectAllTokens = false;
  /** Times a rotated refresh token was presented again (reuse). */
  reuses = 0;
  /** The browser's `refresh_token` cookie (cookie transport). */
  cookie: string | null = null;
  private readonly sessions = new Map<string, Session>();
  private readonly revokedAccess = new Set<string>();
  private counter = 0;

  constructor(
    readonly clock: FakeClock,
    public skewMs = 0,
  ) {}

  serverNow(): number {
    return this.clock.now() + this.skewMs;
  }

  /** Requests to one path. */
  seen(path: string, method?: string): SeenRequest[] {
    return this.requests.filter(
      (request) => request.path === path && (method === undefined || request.method === method),
    );
  }

  /** Ends every session behind the clients' backs (an administrator disabled the user). */
  revokeAllSessions(): void {
    for (const session of this.sessions.values()) this.revoke(session);
  }

  readonly fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const cookie = this.cookie; // attached at send time, before any other request is answered
    const request = new Request(input, init);
    const url = new URL(request.url);
    if (url.origin !== BASE_URL) throw new TypeError(`fetch failed: no route to ${url.origin}`);
    const authorization = request.headers.get('authorization');
    const seen: SeenRequest = {
      method: request.method,
      path: url.pathname,
      headers: request.headers,
      credentials: request.credentials,
      body: request.body ? await request.text() : '',
      bearer: authorization?.startsWith('Bearer ') ? authorization.slice(7) : null,
      at: this.serverNow(),
      cookie: request.credentials === 'include' ? cookie : null,
    };
    this.requests.push(seen);
    const response = this.takeOverride(seen) ?? this.route(seen);
    response.headers.set('date', new Date(this.serverNow()).toUTCString());
    return response;
  };

  private takeOverride(request: SeenRequest): Response | undefined {
    for (let i = 0; i < this.overrides.length; i += 1) {
      let response: Response | undefined;
      try {
        response = this.overrides[i](request);
      } catch (error) {
        this.overrides.splice(i, 1); // a network failure, used up like an answer
        throw error;
      }
      if (response) {
        this.overrides.splice(i, 1);
        return response;
      }
    }
    return undefined;
  }

  private route(request: SeenRequest): Response {
    const route = `${request.method} ${request.path}`;
    const body = request.body ? (JSON.parse(request.body) as Record<string, string>) : {};
    const usesCookie = request.headers.get('auth-transport') === 'cookie';
    switch (route) {
      case 'POST /auth/register':
        return json(201, this.user(body.email, body.name ?? null));
      case 'POST /auth/login': {
        if (body.email !== EMAIL || body.password !== PASSWORD) {
          return json(401, { statusCode: 401, message: 'Invalid email or password' });
        }
        this.counter += 1;
        const session: Session = {
          id: `session-${this.counter}`,
          device: body.device ?? null,
          deviceId: body.device_id ?? null,
          refreshToken: this.refreshToken(),
          rotated: new Set(),
          revoked: false,
        };
        this.sessions.set(session.id, session);
        return this.tokenResponse(session, usesCookie);
      }
      case 'POST /auth/refresh': {
        const presented = usesCookie ? request.cookie : body.refresh_token;
        const session = [...this.sessions.values()].find(
          (candidate) =>
            candidate.refreshToken === presented || candidate.rotated.has(presented ?? ''),
        );
        if (!presented || !session || session.revoked) return this.invalidRefresh();
        if (session.rotated.has(presented)) {
          this.reuses += 1;
          this.revoke(session);
          return this.invalidRefresh();
        }
        if (session.deviceId !== null && session.deviceId !== (body.device_id ?? null)) {
          this.revoke(session);
          return this.invalidRefresh();
        }
        session.rotated.add(session.refreshToken);
        session.refreshToken = this.refreshToken();
        return this.tokenResponse(session, usesCookie);
      }
      case 'POST /auth/logout': {
        const presented = usesCookie ? request.cookie : body.refresh_token;
        if (usesCookie) this.cookie = null;
        const session =
          [...this.sessions.values()].find((candidate) => candidate.refreshToken === presented) ??
          this.sessionOf(request.bearer);
        if (!session) return json(401, { statusCode: 401, message: 'Missing refresh token' });
        this.revoke(session);
        return new Response(null, { status: 204 });
      }
      default:
        return this.bearerRoute(route, request);
    }
  }

  private bearerRoute(route: string, request: SeenRequest): Response {
    if (request.bearer === null) {
      return json(
        401,
        { statusCode: 401, message: 'Missing bearer token' },
        { 'www-authenticate': 'Bearer' },
      );
    }
    const session = this.sessionOf(request.bearer);
    if (!session || this.rejectAllTokens) {
      return json(
        401,
        { statusCode: 401, message: 'Invalid or expired access token' },
        { 'www-authenticate': 'Bearer error="invalid_token"' },
      );
    }
    if (route === 'GET /auth/me') return json(200, this.user(EMAIL, 'Ann'));
    if (route === 'POST /auth/logout-all') {
      for (const other of this.sessions.values()) this.revoke(other);
      return new Response(null, { status: 204 });
    }
    if (route === 'GET /auth/sessions') {
      return json(
        200,
        [...this.sessions.values()]
          .filter((candidate) => !candidate.revoked)
          .map((candidate) => ({
            id: candidate.id,
            device: candidate.device,
            userAgent: null,
            ip: '127.0.0.1',
            createdAt: new Date(this.serverNow()).toISOString(),
            lastUsedAt: new Date(this.serverNow()).toISOString(),
            expiresAt: new Date(this.serverNow() + this.sessionTtl * 1000).toISOString(),
            current: candidate.id === session.id,
          })),
      );
    }
    if (route.startsWith('DELETE /auth/sessions/')) {
      const target = this.sessions.get(decodeURIComponent(route.split('/').pop() ?? ''));
      if (!target || target.revoked) return json(404, { statusCode: 404, message: 'Not Found' });
      this.revoke(target);
      return new Response(null, { status: 204 });
    }
    // Any other route: the host app's API, echoing what it received.
    return json(200, { path: request.path, method: request.method, body: request.body });
  }

  private tokenResponse(session: Session, usesCookie: boolean): Response {
    const body: Record<string, unknown> = {
      access_token: this.accessToken(session.id),
      token_type: 'Bearer',
      expires_in: this.accessTtl,
      refresh_token: session.refreshToken,
      refresh_token_expires_in: this.sessionTtl,
      session_id: session.id,
    };
    if (usesCookie) {
      this.cookie = session.refreshToken;
      delete body.refresh_token;
    }
    return json(200, body, { 'cache-control': 'no-store' });
  }

  private accessToken(sessionId: string): string {
    this.counter += 1;
    const iat = Math.floor(this.serverNow() / 1000);
    const header = base64url({ alg: 'ES256', typ: 'at+jwt', kid: 'k1' });
    const payload = base64url({
      sub: 'user-1',
      sid: sessionId,
      iat,
      exp: iat + this.accessTtl,
      jti: `jti-${this.counter}`,
      roles: [],
    });
    return `${header}.${payload}.signature`;
  }

  private refreshToken(): string {
    this.counter += 1;
    return `refresh-${this.counter}`;
  }

  /** The live session an access token belongs to, if it is valid now. */
  private sessionOf(accessToken: string | null): Session | undefined {
    if (accessToken === null || this.revokedAccess.has(accessToken)) return undefined;
    try {
      const payload = JSON.parse(Buffer.from(accessToken.split('.')[1], 'base64url').toString());
      if (payload.exp * 1000 <= this.serverNow()) return undefined;
      const session = this.sessions.get(payload.sid);
      return session && !session.revoked ? session : undefined;
    } catch {
      return undefined;
    }
  }

  private revoke(session: Session): void {
    session.revoked = true;
  }

  private invalidRefresh(): Response {
    return json(401, { statusCode: 401, message: 'Invalid refresh token', error: 'Unauthorized' });
  }

  private user(email: string, name: string | null) {
    return { id: 'user-1', email, name, roles: [], createdAt: '2025-01-01T00:00:00.000Z' };
  }
}
