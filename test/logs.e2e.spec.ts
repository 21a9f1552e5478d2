import { randomBytes } from 'node:crypto';
import { PASSWORD, uniqueEmail } from './support/auth-client';
import { ensureBuilt, type Exit, ServiceProcess } from './support/service-process';
import { createTestDatabase, type TestDatabase } from './support/test-database';
import { sleep } from './support/time';

/**
 * Issue 5, point 4: the real service (`node dist/src/main.js`, LOG_LEVEL=info) goes through a
 * full login / refresh / logout / password-change run over HTTP, including failures and error
 * paths; then its whole output must be JSON lines with a request id on every request line, and
 * must contain none of the secrets the run used.
 */

const NEW_PASSWORD = 'new staple battery horse';
const WRONG_PASSWORD = 'wrong password 9f3k2';
const WRONG_CURRENT_PASSWORD = 'not my current password 77';
/** Well-formed (43 base64url characters) but unknown: reaches the database lookup. */
const GARBAGE_REFRESH_TOKEN = randomBytes(32).toString('base64url');
/** Not even well-formed. */
const GARBAGE_REFRESH_TOKEN_2 = `garbage-${randomBytes(12).toString('hex')}`;
const GARBAGE_BEARER = `eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.${randomBytes(32).toString('base64url')}`;
const REQUEST_ID = 'test-req-42';

interface TokenBody {
  access_token?: string;
  refresh_token?: string;
}

interface LogLine {
  level?: number;
  msg?: string;
  req?: { id?: unknown };
  [key: string]: unknown;
}

describe('logs of a full run of the real service', () => {
  let database: TestDatabase;
  let service: ServiceProcess | undefined;
  let exit: Exit | undefined;
  /** Every secret the run sent or received; none may reach the log. */
  const secrets = new Map<string, string>();
  /** What each step answered, checked in the first test. */
  const statuses: Array<[string, number, number]> = [];
  let lines: string[] = [];
  const email = uniqueEmail('logs');

  function secret(name: string, value: string | undefined): void {
    if (!value) throw new Error(`no value for secret ${name}`);
    secrets.set(name, value);
  }

  beforeAll(async () => {
    ensureBuilt();
    database = await createTestDatabase();
    service = await ServiceProcess.start({ ...database.env, LOG_LEVEL: 'info' });
    const url = service.url;

    async function call(
      step: string,
      expected: number,
      path: string,
      init: { method?: string; headers?: Record<string, string>; body?: unknown; form?: boolean },
    ): Promise<Response> {
      const headers: Record<string, string> = { ...init.headers };
      let body: string | undefined;
      if (typeof init.body === 'string') {
        body = init.body;
      } else if (init.body !== undefined && init.form) {
        body = new URLSearchParams(init.body as Record<string, string>).toString();
        headers['Content-Type'] = 'application/x-www-form-urlencoded';
      } else if (init.body !== undefined) {
        body = JSON.stringify(init.body);
        headers['Content-Type'] ??= 'application/json';
      }
      const response = await fetch(`${url}${path}`, {
        method: init.method ?? (body === undefined ? 'GET' : 'POST'),
        headers,
        body,
        signal: AbortSignal.timeout(20_000),
      });
      statuses.push([step, response.status, expected]);
      return response;
    }
    const tokens = async (name: string, response: Response): Promise<TokenBody> => {
      const body = (await response.json()) as TokenBody;
      secret(`${name} access token`, body.access_token);
      if (body.refresh_token) secret(`${name} refresh token`, body.refresh_token);
      return body;
    };
    /** The refresh cookie a response sets, kept as a secret (value and whole header). */
    const refreshCookie = (name: string, response: Response): string => {
      const setCookie = response.headers.getSetCookie().find((c) => c.startsWith('refresh_token='));
      if (!setCookie) throw new Error(`${name}: no refresh_token cookie`);
      const value = setCookie.split(';')[0].slice('refresh_token='.length);
      secret(`${name} refresh cookie`, value);
      secret(`${name} Set-Cookie header`, setCookie);
      return value;
    };

    secret('password', PASSWORD);
    secret('new password', NEW_PASSWORD);
    secret('wrong password', WRONG_PASSWORD);
    secret('wrong current password', WRONG_CURRENT_PASSWORD);
    secret('garbage refresh token', GARBAGE_REFRESH_TOKEN);
    secret('malformed refresh token', GARBAGE_REFRESH_TOKEN_2);
    secret('garbage bearer', GARBAGE_BEARER);

    await call('register', 201, '/auth/register', { body: { email, password: PASSWORD } });

    // Login, body transport.
    const a = await tokens(
      'login (body)',
      await call('login (body)', 200, '/auth/login', { body: { email, password: PASSWORD } }),
    );

    // Login, cookie transport.
    const cookieLogin = await call('login (cookie)', 200, '/auth/login', {
      headers: { 'Auth-Transport': 'cookie' },
      body: { email, password: PASSWORD },
    });
    await tokens('login (cookie)', cookieLogin);
    const cookieB = refreshCookie('login (cookie)', cookieLogin);

    // Failed logins: a distinct wrong password, an unknown email.
    await call('login, wrong password', 401, '/auth/login', {
      body: { email, password: WRONG_PASSWORD },
    });
    await call('login, unknown email', 401, '/auth/login', {
      body: { email: uniqueEmail('nobody'), password: WRONG_PASSWORD },
    });

    // Error paths that carry a password: malformed JSON, an unknown field, a too-long password.
    await call('login, malformed JSON', 400, '/auth/login', {
      headers: { 'Content-Type': 'application/json' },
      body: `{"email":"${email}","password":"${PASSWORD}"`,
    });
    await call('login, unknown field', 400, '/auth/login', {
      body: { email, password: PASSWORD, shadow: WRONG_PASSWORD },
    });
    await call('register, password too long', 400, '/auth/register', {
      body: { email: uniqueEmail('long'), password: `${WRONG_PASSWORD}${'x'.repeat(130)}` },
    });

    // The bearer, good and bad.
    await call('me', 200, '/auth/me', { headers: { Authorization: `Bearer ${a.access_token}` } });
    await call('me, garbage bearer', 401, '/auth/me', {
      headers: { Authorization: `Bearer ${GARBAGE_BEARER}` },
    });

    // Refresh, body transport.
    const a2 = await tokens(
      'refresh (body)',
      await call('refresh (body)', 200, '/auth/refresh', {
        body: { refresh_token: a.refresh_token },
      }),
    );

    // Refresh, cookie transport.
    const cookieHeader = `refresh_token=${cookieB}`;
    secret('Cookie header', cookieHeader);
    const cookieRefresh = await call('refresh (cookie)', 200, '/auth/refresh', {
      method: 'POST',
      headers: { 'Auth-Transport': 'cookie', Cookie: cookieHeader },
    });
    const b2 = await tokens('refresh (cookie)', cookieRefresh);
    refreshCookie('refresh (cookie)', cookieRefresh);

    // Refresh with garbage tokens.
    await call('refresh, garbage token', 401, '/auth/refresh', {
      body: { refresh_token: GARBAGE_REFRESH_TOKEN },
    });
    await call('refresh, malformed token', 401, '/auth/refresh', {
      body: { refresh_token: GARBAGE_REFRESH_TOKEN_2 },
    });
    await call('refresh, garbage cookie', 401, '/auth/refresh', {
      method: 'POST',
      headers: { 'Auth-Transport': 'cookie', Cookie: `refresh_token=${GARBAGE_REFRESH_TOKEN}` },
    });

    // OAuth password grant (form), a refresh_token grant and a failed password grant.
    const c = await tokens(
      'oauth password grant',
      await call('oauth password grant', 200, '/oauth/token', {
        form: true,
        body: { grant_type: 'password', username: email, password: PASSWORD },
      }),
    );
    await tokens(
      'oauth refresh grant',
      await call('oauth refresh grant', 200, '/oauth/token', {
        form: true,
        body: { grant_type: 'refresh_token', refresh_token: c.refresh_token! },
      }),
    );
    await call('oauth password grant, wrong password', 400, '/oauth/token', {
      form: true,
      body: { grant_type: 'password', username: email, password: WRONG_PASSWORD },
    });

    // Logout (body), logout-all (bearer).
    await call('logout', 204, '/auth/logout', { body: { refresh_token: a2.refresh_token } });
    await call('logout-all', 204, '/auth/logout-all', {
      method: 'POST',
      headers: { Authorization: `Bearer ${b2.access_token}` },
    });

    // Password change: a wrong current password (403), then the change.
    const d = await tokens(
      'login after logout-all',
      await call('login after logout-all', 200, '/auth/login', {
        body: { email, password: PASSWORD },
      }),
    );
    await call('password change, wrong current', 403, '/auth/password', {
      headers: { Authorization: `Bearer ${d.access_token}` },
      body: { currentPassword: WRONG_CURRENT_PASSWORD, newPassword: NEW_PASSWORD },
    });
    await call('password change', 204, '/auth/password', {
      headers: { Authorization: `Bearer ${d.access_token}` },
      body: { currentPassword: PASSWORD, newPassword: NEW_PASSWORD },
    });

    // A login with the new password, under a request id of the client's.
    await tokens(
      'login with request id',
      await call('login with request id', 200, '/auth/login', {
        headers: { 'X-Request-Id': REQUEST_ID },
        body: { email, password: NEW_PASSWORD },
      }),
    );

    // The last request's lines are out before the signal (test/graceful-shutdown.e2e.spec.ts
    // covers what is lost at exit).
    const logged = Date.now() + 10_000;
    const lastLineOut = () =>
      service!
        .lines()
        .some(
          (line) => line.includes(`"id":"${REQUEST_ID}"`) && line.includes('request completed'),
        );
    while (!lastLineOut() && Date.now() < logged) await sleep(20);
    service.kill('SIGTERM');
    exit = await service.waitExit(15_000);
    lines = service.lines();
  }, 300_000);

  afterAll(async () => {
    await service?.stop();
    await database?.drop();
  });

  it('answered every step of the run as expected, and exited on SIGTERM', () => {
    expect(statuses.filter(([, status, expected]) => status !== expected)).toEqual([]);
    expect(statuses).toHaveLength(24);
    expect(exit).toBeDefined();
  });

  it('writes only JSON lines', () => {
    expect(lines.length).toBeGreaterThan(20);
    const notJson = lines.filter((line) => {
      try {
        const parsed: unknown = JSON.parse(line);
        return typeof parsed !== 'object' || parsed === null;
      } catch {
        return true;
      }
    });
    expect(notJson).toEqual([]);
    expect(service!.stderr).toBe('');
  });

  it('puts a request id on every line about a request', () => {
    const parsed = lines.map((line) => JSON.parse(line) as LogLine);
    const requestLines = parsed.filter(
      (line) => 'req' in line || /^request (completed|errored|aborted)$/.test(line.msg ?? ''),
    );
    // At least one "request completed" line per step of the run.
    expect(
      requestLines.filter((line) => line.msg === 'request completed').length,
    ).toBeGreaterThanOrEqual(statuses.length);
    const withoutId = requestLines.filter(
      (line) => typeof line.req?.id !== 'string' || line.req.id === '',
    );
    expect(withoutId).toEqual([]);
    // The events logged inside a request carry its id too.
    const events = parsed.filter((line) => /^login\.(failed|succeeded) /.test(line.msg ?? ''));
    expect(events.length).toBeGreaterThanOrEqual(8);
    for (const line of events) expect(line.req?.id).toEqual(expect.any(String));
  });

  it("carries the client's X-Request-Id on the lines of that request", () => {
    const tagged = lines
      .map((line) => JSON.parse(line) as LogLine)
      .filter((line) => line.req?.id === REQUEST_ID);
    expect(tagged.map((line) => line.msg)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^login\.succeeded /),
        expect.stringMatching(/^request completed$/),
      ]),
    );
    for (const line of tagged) expect(line.req).toMatchObject({ path: '/auth/login' });
  });

  it('logs what it should: failed logins, requests, refreshes, logouts', () => {
    const messages = lines.map((line) => String((JSON.parse(line) as LogLine).msg));
    const failures = messages.filter((msg) => msg.startsWith('login.failed '));
    expect(failures).toEqual(
      expect.arrayContaining([
        expect.stringContaining('"reason":"wrong_password"'),
        expect.stringContaining('"reason":"unknown_email"'),
      ]),
    );
    expect(messages).toContain('request completed');
    expect(messages).toContainEqual(expect.stringMatching(/^nest-token-auth ready on /));
    expect(messages).toContainEqual(expect.stringMatching(/^token\.refreshed /));
    expect(messages).toContainEqual(expect.stringMatching(/^session\.revoked /));
  });

  it('contains none of the secrets the run used', () => {
    const log = lines.join('\n');
    // The run really collected its secrets: 3 passwords + 2 wrong ones, 7 access tokens, ...
    expect(secrets.size).toBeGreaterThanOrEqual(20);
    const found: string[] = [];
    for (const [name, value] of secrets) {
      const forms = new Set([
        value,
        encodeURIComponent(value),
        new URLSearchParams({ v: value }).toString().slice(2),
        JSON.stringify(value).slice(1, -1),
      ]);
      // A JWT's signature alone is a secret's tail that a log could still leak.
      if (value.split('.').length === 3) forms.add(value.split('.')[2]);
      for (const form of forms) if (log.includes(form)) found.push(`${name}: ${form}`);
    }
    expect(found).toEqual([]);
    // The control: the same search finds what the log may carry (login.failed names the email).
    expect(log).toContain(email);
    expect(log).not.toMatch(/Bearer /i);
    expect(log).not.toMatch(/refresh_token=/);
    expect(log).not.toMatch(/argon2/);
  });
});
