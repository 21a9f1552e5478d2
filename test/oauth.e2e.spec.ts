import { createPublicKey, verify as cryptoVerify } from 'node:crypto';
import type { Response } from 'supertest';
import {
  decodeJwt,
  login,
  me,
  PASSWORD,
  refresh,
  register,
  signUp,
  type TokenPair,
  uniqueEmail,
} from './support/auth-client';
import { createTestApp, type TestApp } from './support/test-app';

const ADMIN_EMAIL = 'admin@example.com';
const ADMIN_PASSWORD = 'admin password 1';
/** 40 characters: comfortably above the 32-byte minimum. */
const HS256_SECRET = 'hs256-test-secret-0123456789-abcdefghijk';
/** Members of a private JWK (RFC 7518 §6.2.2, §6.3.2): none may ever be published. */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

/** What must never appear in an error body: stack frames, driver errors, SQL, hashes. */
const LEAKS = [
  /\bat .+:\d+:\d+/, // a stack frame
  /"stack"/,
  /node_modules|\/src\/|\.ts:\d+/,
  /QueryFailedError|TypeORMError|PGlite|PostgresError|duplicate key|violates/i,
  /\b(SELECT|INSERT|UPDATE|DELETE)\b.*\b(FROM|INTO|SET|WHERE)\b/i,
  /argon2|\$argon/i,
  /Internal server error/i,
];

function expectNoLeak(response: Response): void {
  for (const pattern of LEAKS) expect(response.text ?? '').not.toMatch(pattern);
}

/** A form-encoded POST, as OAuth clients send it (a string is sent as it is). */
function postForm(t: TestApp, path: string, body: Record<string, string> | string) {
  return t.http().post(path).type('form').send(body);
}

/** A JSON POST of any value, arrays and scalars included. */
function postJson(t: TestApp, path: string, body: unknown) {
  return t.http().post(path).set('Content-Type', 'application/json').send(JSON.stringify(body));
}

/** A successful RFC 6749 §5.1 token response, not to be cached. */
function expectTokenResponse(response: Response): TokenPair {
  expect(response.status).toBe(200);
  expect(response.headers['cache-control']).toBe('no-store');
  expect(response.headers['pragma']).toBe('no-cache');
  expect(response.headers['content-type']).toMatch(/^application\/json/);
  expect(response.body).toEqual({
    access_token: expect.any(String),
    token_type: 'Bearer',
    expires_in: 900,
    refresh_token: expect.stringMatching(/^[A-Za-z0-9_-]{92}$/),
    refresh_token_expires_in: expect.any(Number),
    session_id: expect.any(String),
  });
  const { header, payload } = decodeJwt(response.body.access_token);
  expect(header.typ).toBe('at+jwt');
  expect(payload.sid).toBe(response.body.session_id);
  return response.body as TokenPair;
}

/** An RFC 6749 §5.2 error: 400, `{ error, error_description }`, not cached, nothing internal. */
function expectOAuthError(response: Response, error: string): void {
  expect({ status: response.status, body: response.body }).toEqual({
    status: 400,
    body: { error, error_description: expect.any(String) },
  });
  expect(response.headers['cache-control']).toBe('no-store');
  expect(response.headers['pragma']).toBe('no-cache');
  expect(response.headers['content-type']).toMatch(/^application\/json/);
  // §5.2: error_description is printable ASCII without '"' and '\'.
  expect(response.body.error_description).toMatch(/^[\x20-\x21\x23-\x5B\x5D-\x7E]+$/);
  expectNoLeak(response);
}

function passwordGrant(email: string, password = PASSWORD): Record<string, string> {
  return { grant_type: 'password', username: email, password };
}

describe('POST /oauth/token', () => {
  let t: TestApp;
  let admin: TokenPair;

  beforeAll(async () => {
    t = await createTestApp({
      AUTH_REFRESH_REUSE_GRACE: '0',
      AUTH_ADMIN_EMAIL: ADMIN_EMAIL,
      AUTH_ADMIN_PASSWORD: ADMIN_PASSWORD,
    });
    admin = await login(t, ADMIN_EMAIL, ADMIN_PASSWORD);
  });
  afterAll(() => t.close());

  describe('grant_type=password (RFC 6749 §4.3)', () => {
    it('answers a token response to a form-encoded request', async () => {
      const { id, email } = await register(t);
      const tokens = expectTokenResponse(await postForm(t, '/oauth/token', passwordGrant(email)));
      expect(decodeJwt(tokens.access_token).payload.sub).toBe(id);
      const response = await me(t, tokens.access_token);
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ id, email });
    });

    it('answers a token response to a JSON request', async () => {
      const { id, email } = await register(t);
      const tokens = expectTokenResponse(await postJson(t, '/oauth/token', passwordGrant(email)));
      expect(decodeJwt(tokens.access_token).payload.sub).toBe(id);
      await me(t, tokens.access_token).expect(200);
    });

    it('accepts client_id (public client) and ignores parameters it does not know', async () => {
      const { email } = await register(t);
      const extras = {
        client_id: 'mobile-app',
        scope: 'openid profile offline_access',
        state: 'xyz',
        resource: 'https://api.example.com',
        audience: 'someone-else',
      };
      expectTokenResponse(
        await postForm(t, '/oauth/token', { ...passwordGrant(email), ...extras }),
      );
      const json = expectTokenResponse(
        await postJson(t, '/oauth/token', {
          ...passwordGrant(email),
          ...extras,
          unknown_object: { nested: [1, 2] },
          unknown_number: 42,
        }),
      );
      // Our audience, whatever the request asked for.
      expect(decodeJwt(json.access_token).payload.aud).toBe('api');
    });

    it('is not confused by form parameters named like Object.prototype members', async () => {
      const { email } = await register(t);
      const grant = `constructor=y&hasOwnProperty=z&toString=w&__proto__[a]=1&${new URLSearchParams(
        passwordGrant(email),
      )}`;
      expectTokenResponse(await postForm(t, '/oauth/token', grant));
    });

    it('takes the username case-insensitively, as /auth/login does', async () => {
      const { id, email } = await register(t);
      const tokens = expectTokenResponse(
        await postForm(t, '/oauth/token', passwordGrant(email.toUpperCase())),
      );
      expect(decodeJwt(tokens.access_token).payload.sub).toBe(id);
    });

    it('answers invalid_grant, alike, for a wrong password, an unknown user and a disabled user', async () => {
      const { email } = await register(t);
      const disabled = await register(t);
      await t
        .http()
        .patch(`/admin/users/${disabled.id}`)
        .set('Authorization', `Bearer ${admin.access_token}`)
        .send({ disabled: true })
        .expect(200);

      const responses = [
        await postForm(t, '/oauth/token', passwordGrant(email, 'wrong password 1')),
        await postForm(t, '/oauth/token', passwordGrant(uniqueEmail('nobody'))),
        await postForm(t, '/oauth/token', passwordGrant(disabled.email)),
        await postJson(t, '/oauth/token', passwordGrant(email, 'wrong password 1')),
        await postJson(t, '/oauth/token', passwordGrant('not-an-email')),
      ];
      for (const response of responses) expectOAuthError(response, 'invalid_grant');
      // Nothing tells which of the three it was.
      const descriptions = new Set(responses.map((response) => response.body.error_description));
      expect(descriptions.size).toBe(1);
    });
  });

  describe('grant_type=refresh_token (RFC 6749 §6)', () => {
    it('rotates the refresh token like /auth/refresh: a new one, the same session', async () => {
      const { email } = await register(t);
      const first = expectTokenResponse(await postForm(t, '/oauth/token', passwordGrant(email)));
      const second = expectTokenResponse(
        await postForm(t, '/oauth/token', {
          grant_type: 'refresh_token',
          refresh_token: first.refresh_token,
          client_id: 'mobile-app',
          scope: 'ignored',
        }),
      );
      expect(second.refresh_token).not.toBe(first.refresh_token);
      expect(second.session_id).toBe(first.session_id);
      await me(t, second.access_token).expect(200);

      const third = expectTokenResponse(
        await postJson(t, '/oauth/token', {
          grant_type: 'refresh_token',
          refresh_token: second.refresh_token,
        }),
      );
      expect(third.session_id).toBe(first.session_id);
      expect(third.refresh_token).not.toBe(second.refresh_token);
    });

    it('shares its sessions with /auth: either endpoint refreshes the other one’s token', async () => {
      const { tokens } = await signUp(t);
      const viaOAuth = expectTokenResponse(
        await postForm(t, '/oauth/token', {
          grant_type: 'refresh_token',
          refresh_token: tokens.refresh_token,
        }),
      );
      expect(viaOAuth.session_id).toBe(tokens.session_id);
      const viaAuth = await refresh(t, viaOAuth.refresh_token).expect(200);
      expect(viaAuth.body.session_id).toBe(tokens.session_id);
    });

    it('answers invalid_grant to a rotated token presented again and ends the session (grace 0)', async () => {
      const { email } = await register(t);
      const first = expectTokenResponse(await postForm(t, '/oauth/token', passwordGrant(email)));
      const grant = (refreshToken: string) =>
        postForm(t, '/oauth/token', { grant_type: 'refresh_token', refresh_token: refreshToken });
      const second = expectTokenResponse(await grant(first.refresh_token));
      await me(t, second.access_token).expect(200);

      expectOAuthError(await grant(first.refresh_token), 'invalid_grant');

      // Reuse detection revoked the whole session: the newest pair is dead too.
      expectOAuthError(await grant(second.refresh_token), 'invalid_grant');
      await refresh(t, second.refresh_token).expect(401);
      await me(t, second.access_token).expect(401);
      await me(t, first.access_token).expect(401);
    });

    it.each([
      ['an unknown token', 'A'.repeat(43)],
      ['a malformed token', 'not a refresh token'],
      ['an access token', null],
    ])('answers invalid_grant to %s', async (_case, value) => {
      const { tokens } = await signUp(t);
      const response = await postForm(t, '/oauth/token', {
        grant_type: 'refresh_token',
        refresh_token: value ?? tokens.access_token,
      });
      expectOAuthError(response, 'invalid_grant');
    });
  });

  describe('errors (RFC 6749 §5.2)', () => {
    let email: string;

    beforeAll(async () => {
      ({ email } = await register(t));
    });

    const invalidRequests: [string, (email: string) => Response | Promise<Response>][] = [
      ['no body at all', () => t.http().post('/oauth/token')],
      [
        'no grant_type (form)',
        (e) => postForm(t, '/oauth/token', { username: e, password: PASSWORD }),
      ],
      [
        'no grant_type (JSON)',
        (e) => postJson(t, '/oauth/token', { username: e, password: PASSWORD }),
      ],
      [
        'an empty grant_type',
        (e) => postForm(t, '/oauth/token', { ...passwordGrant(e), grant_type: '' }),
      ],
      ['an empty JSON object', () => postJson(t, '/oauth/token', {})],
      [
        'no username',
        () => postForm(t, '/oauth/token', { grant_type: 'password', password: PASSWORD }),
      ],
      ['no password', (e) => postForm(t, '/oauth/token', { grant_type: 'password', username: e })],
      [
        'an empty password',
        (e) => postJson(t, '/oauth/token', { ...passwordGrant(e), password: '' }),
      ],
      ['no refresh_token', () => postForm(t, '/oauth/token', { grant_type: 'refresh_token' })],
      [
        'no refresh_token (JSON null)',
        () => postJson(t, '/oauth/token', { grant_type: 'refresh_token', refresh_token: null }),
      ],
      ['grant_type sent twice', () => postForm(t, '/oauth/token', 'grant_type=a&grant_type=b')],
      [
        'grant_type=password sent twice',
        (e) =>
          postForm(
            t,
            '/oauth/token',
            `grant_type=password&grant_type=password&username=${encodeURIComponent(e)}&password=${encodeURIComponent(PASSWORD)}`,
          ),
      ],
      [
        'password sent twice',
        (e) =>
          postForm(
            t,
            '/oauth/token',
            `grant_type=password&username=${encodeURIComponent(e)}&password=${encodeURIComponent(PASSWORD)}&password=x`,
          ),
      ],
      [
        'refresh_token sent twice',
        () =>
          postForm(
            t,
            '/oauth/token',
            `grant_type=refresh_token&refresh_token=${'A'.repeat(43)}&refresh_token=${'B'.repeat(43)}`,
          ),
      ],
      [
        'a number as grant_type',
        (e) => postJson(t, '/oauth/token', { ...passwordGrant(e), grant_type: 1 }),
      ],
      [
        'an array as grant_type',
        (e) => postJson(t, '/oauth/token', { ...passwordGrant(e), grant_type: ['password'] }),
      ],
      [
        'an object as grant_type',
        (e) => postJson(t, '/oauth/token', { ...passwordGrant(e), grant_type: {} }),
      ],
      [
        'true as grant_type',
        (e) => postJson(t, '/oauth/token', { ...passwordGrant(e), grant_type: true }),
      ],
      [
        'a number as username',
        () => postJson(t, '/oauth/token', { ...passwordGrant('x'), username: 42 }),
      ],
      [
        'an object as username',
        () => postJson(t, '/oauth/token', { ...passwordGrant('x'), username: { $ne: null } }),
      ],
      [
        'a number as password',
        (e) => postJson(t, '/oauth/token', { ...passwordGrant(e), password: 12345678 }),
      ],
      [
        'an array as password',
        (e) => postJson(t, '/oauth/token', { ...passwordGrant(e), password: [PASSWORD] }),
      ],
      [
        'an object as refresh_token',
        () => postJson(t, '/oauth/token', { grant_type: 'refresh_token', refresh_token: { a: 1 } }),
      ],
      [
        'a number as client_id',
        (e) => postJson(t, '/oauth/token', { ...passwordGrant(e), client_id: 7 }),
      ],
      ['a JSON array body', (e) => postJson(t, '/oauth/token', [passwordGrant(e)])],
      ['an empty JSON array body', () => postJson(t, '/oauth/token', [])],
      ['a JSON string body', () => postJson(t, '/oauth/token', 'grant_type=password')],
      ['a JSON number body', () => postJson(t, '/oauth/token', 42)],
      ['a JSON null body', () => postJson(t, '/oauth/token', null)],
      [
        'a text/plain body',
        (e) =>
          t
            .http()
            .post('/oauth/token')
            .set('Content-Type', 'text/plain')
            .send(`grant_type=password&username=${e}&password=${PASSWORD}`),
      ],
      [
        'a username over 254 characters',
        () => postForm(t, '/oauth/token', passwordGrant(`${'a'.repeat(250)}@example.com`)),
      ],
    ];

    it.each(invalidRequests)('answers invalid_request to %s', async (_case, send) => {
      expectOAuthError(await send(email), 'invalid_request');
    });

    it.each([
      ['client_credentials', {}],
      ['authorization_code', { code: 'abc', redirect_uri: 'https://client.example/cb' }],
      ['implicit', {}],
      ['urn:ietf:params:oauth:grant-type:device_code', { device_code: 'abc' }],
      ['urn:ietf:params:oauth:grant-type:jwt-bearer', { assertion: 'a.b.c' }],
      ['PASSWORD', {}],
    ])('answers unsupported_grant_type to grant_type=%s', async (grantType, extra) => {
      const body = { ...passwordGrant(email), ...extra, grant_type: grantType };
      expectOAuthError(await postForm(t, '/oauth/token', body), 'unsupported_grant_type');
      expectOAuthError(await postJson(t, '/oauth/token', body), 'unsupported_grant_type');
    });

    /** Bodies refused by the body parsers, before the route. */
    const unparsable: [string, string, string][] = [
      ['malformed JSON', 'application/json', '{"grant_type":'],
      ['JSON with __proto__', 'application/json', '{"__proto__":{"x":1},"grant_type":"password"}'],
      ['an empty JSON body', 'application/json', ''],
      [
        'a form with __proto__',
        'application/x-www-form-urlencoded',
        '__proto__=x&grant_type=password',
      ],
    ];

    it.each(unparsable)(
      'answers %s with 400, never 5xx, and nothing internal',
      async (_case, type, text) => {
        const response = await t.http().post('/oauth/token').set('Content-Type', type).send(text);
        expect(response.status).toBe(400);
        expectNoLeak(response);
      },
    );

    // Known gap: a body the parsers refuse never reaches the controller's OAuthExceptionFilter,
    // so it answers Nest's `{statusCode, message}` 400 (still 4xx, no leak), not the §5.2 shape.
    it.failing.each(unparsable)(
      'answers %s with an RFC 6749 invalid_request',
      async (_case, type, text) => {
        const response = await t.http().post('/oauth/token').set('Content-Type', type).send(text);
        expectOAuthError(response, 'invalid_request');
      },
    );

    // PostgreSQL text cannot hold NUL: OAuthParameters refuses it, as the /auth DTOs do.
    it('answers a username containing NUL with a 400, not 500', async () => {
      for (const response of [
        await postJson(t, '/oauth/token', passwordGrant(`a\u0000${email}`)),
        await postForm(t, '/oauth/token', `grant_type=password&username=a%00b&password=x`),
      ]) {
        expect(response.status).toBe(400);
        expect(['invalid_request', 'invalid_grant']).toContain(response.body.error);
        expect(response.headers['cache-control']).toBe('no-store');
      }
    });
  });
});

describe('POST /oauth/revoke (RFC 7009)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  /** 200, an empty body, not cached. */
  function expectRevoked(response: Response): void {
    expect(response.status).toBe(200);
    expect(response.text).toBe('');
    expect(response.headers['cache-control']).toBe('no-store');
  }

  /** The session is over: its access token is refused and its refresh token too, everywhere. */
  async function expectSessionEnded(tokens: TokenPair): Promise<void> {
    await me(t, tokens.access_token).expect(401);
    expectOAuthError(
      await postForm(t, '/oauth/token', {
        grant_type: 'refresh_token',
        refresh_token: tokens.refresh_token,
      }),
      'invalid_grant',
    );
    await refresh(t, tokens.refresh_token).expect(401);
  }

  it('ends the session of a refresh token (form-encoded)', async () => {
    const { tokens } = await signUp(t);
    await me(t, tokens.access_token).expect(200);
    expectRevoked(await postForm(t, '/oauth/revoke', { token: tokens.refresh_token }));
    await expectSessionEnded(tokens);
  });

  it('ends the session of a refresh token (JSON, token_type_hint=refresh_token, client_id)', async () => {
    const { tokens } = await signUp(t);
    expectRevoked(
      await postJson(t, '/oauth/revoke', {
        token: tokens.refresh_token,
        token_type_hint: 'refresh_token',
        client_id: 'mobile-app',
      }),
    );
    await expectSessionEnded(tokens);
  });

  it('ends the session of an access token of ours', async () => {
    const { tokens } = await signUp(t);
    expectRevoked(
      await postForm(t, '/oauth/revoke', {
        token: tokens.access_token,
        token_type_hint: 'access_token',
      }),
    );
    await expectSessionEnded(tokens);
  });

  it('finds the token whatever the hint says (§2.1: the search extends to every type)', async () => {
    for (const [kind, hint] of [
      ['refresh_token', 'access_token'],
      ['access_token', 'refresh_token'],
      ['refresh_token', 'something_else'],
    ] as const) {
      const { tokens } = await signUp(t);
      expectRevoked(
        await postForm(t, '/oauth/revoke', { token: tokens[kind], token_type_hint: hint }),
      );
      await expectSessionEnded(tokens);
    }
  });

  it('ends only that session: the user’s other sessions go on', async () => {
    const { email, tokens } = await signUp(t);
    const other = await login(t, email);
    expectRevoked(await postForm(t, '/oauth/revoke', { token: tokens.refresh_token }));
    await expectSessionEnded(tokens);
    await me(t, other.access_token).expect(200);
    await refresh(t, other.refresh_token).expect(200);
  });

  it('answers 200 to unknown, garbage, repeated and rotated tokens', async () => {
    const { tokens } = await signUp(t);
    const rotated = await refresh(t, tokens.refresh_token).expect(200);
    const header = Buffer.from('{"alg":"none","typ":"at+jwt"}').toString('base64url');
    for (const token of [
      'A'.repeat(43),
      'garbage',
      'x'.repeat(5000),
      `${header}.e30.`,
      `${tokens.access_token}x`,
      'a\u0000b',
      tokens.refresh_token, // rotated: revoking it ends the session too
      tokens.refresh_token, // and again: idempotent
    ]) {
      expectRevoked(await postForm(t, '/oauth/revoke', { token }));
    }
    expectRevoked(await postJson(t, '/oauth/revoke', { token: 'unknown', token_type_hint: 'x' }));
    // Revoking a rotated token of a session revokes that session (it is its grant).
    await refresh(t, rotated.body.refresh_token).expect(401);
  });

  it.each<[string, () => Promise<Response> | Response]>([
    ['no body', () => t.http().post('/oauth/revoke')],
    ['no token (form)', () => postForm(t, '/oauth/revoke', { token_type_hint: 'refresh_token' })],
    ['no token (JSON)', () => postJson(t, '/oauth/revoke', {})],
    ['an empty token', () => postForm(t, '/oauth/revoke', { token: '' })],
    ['token sent twice', () => postForm(t, '/oauth/revoke', 'token=a&token=b')],
    ['a number as token', () => postJson(t, '/oauth/revoke', { token: 42 })],
    ['an array body', () => postJson(t, '/oauth/revoke', [{ token: 'abc' }])],
  ])('answers invalid_request to %s', async (_case, send) => {
    expectOAuthError(await send(), 'invalid_request');
  });
});

describe('GET /.well-known/oauth-authorization-server (RFC 8414)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ AUTH_ISSUER: 'https://auth.example.com' });
  });
  afterAll(() => t.close());

  it('describes the endpoints under the issuer, public clients only', async () => {
    const response = await t.http().get('/.well-known/oauth-authorization-server').expect(200);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(response.body).toEqual({
      issuer: 'https://auth.example.com',
      token_endpoint: 'https://auth.example.com/oauth/token',
      revocation_endpoint: 'https://auth.example.com/oauth/revoke',
      jwks_uri: 'https://auth.example.com/.well-known/jwks.json',
      grant_types_supported: ['password', 'refresh_token'],
      response_types_supported: [],
      token_endpoint_auth_methods_supported: ['none'],
      revocation_endpoint_auth_methods_supported: ['none'],
    });
  });

  it('names the issuer the tokens carry', async () => {
    const { tokens } = await signUp(t);
    const { body } = await t.http().get('/.well-known/oauth-authorization-server').expect(200);
    expect(decodeJwt(tokens.access_token).payload.iss).toBe(body.issuer);
  });
});

describe('GET /.well-known/jwks.json', () => {
  /** Checks the token's signature with node:crypto against a published JWK. */
  function verifiesWith(jwk: Record<string, unknown>, token: string): boolean {
    const [header, payload, signature] = token.split('.');
    const key = createPublicKey({ key: jwk as never, format: 'jwk' });
    return cryptoVerify(
      'sha256',
      Buffer.from(`${header}.${payload}`),
      jwk.kty === 'EC' ? { key, dsaEncoding: 'ieee-p1363' } : key,
      Buffer.from(signature, 'base64url'),
    );
  }

  it.each([
    ['ES256', {}, ['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y'], { kty: 'EC', crv: 'P-256' }],
    ['RS256', { AUTH_JWT_ALG: 'RS256' }, ['alg', 'e', 'kid', 'kty', 'n', 'use'], { kty: 'RSA' }],
  ])(
    '%s: publishes the public key the tokens verify with, and nothing private',
    async (alg, env, members, expected) => {
      const t = await createTestApp(env);
      try {
        const { tokens } = await signUp(t);
        const response = await t.http().get('/.well-known/jwks.json').expect(200);
        expect(response.headers['content-type']).toMatch(/^application\/json/);
        expect(Object.keys(response.body)).toEqual(['keys']);
        expect(response.body.keys).toHaveLength(1);
        const [jwk] = response.body.keys;
        expect(Object.keys(jwk).sort()).toEqual(members);
        expect(jwk).toMatchObject({
          ...expected,
          kid: decodeJwt(tokens.access_token).header.kid,
          alg,
          use: 'sig',
        });
        for (const member of PRIVATE_MEMBERS) expect(jwk).not.toHaveProperty(member);
        expect(response.text).not.toMatch(/PRIVATE KEY/);
        expect(verifiesWith(jwk, tokens.access_token)).toBe(true);
      } finally {
        await t.close();
      }
    },
  );

  it('HS256: publishes no key, and the secret appears nowhere', async () => {
    const t = await createTestApp({ AUTH_JWT_ALG: 'HS256', AUTH_JWT_SECRET: HS256_SECRET });
    try {
      const { tokens } = await signUp(t);
      expect(decodeJwt(tokens.access_token).header.alg).toBe('HS256');
      const response = await t.http().get('/.well-known/jwks.json').expect(200);
      expect(response.body).toEqual({ keys: [] });
      const secret = Buffer.from(HS256_SECRET);
      for (const form of [
        HS256_SECRET,
        secret.toString('base64url'),
        secret.toString('base64'),
        secret.toString('hex'),
      ]) {
        expect(response.text).not.toContain(form);
      }
      const metadata = await t.http().get('/.well-known/oauth-authorization-server').expect(200);
      expect(metadata.text).not.toContain(HS256_SECRET);
    } finally {
      await t.close();
    }
  });
});
