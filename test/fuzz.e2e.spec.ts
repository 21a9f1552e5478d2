import fc from 'fast-check';
import type { Response } from 'supertest';
import { decodeJwt, login, signUp, type TokenPair } from './support/auth-client';
import { createTestApp, type TestApp } from './support/test-app';

/**
 * Property-based fuzzing (fast-check) of every endpoint: malformed bodies, content types,
 * methods and headers never answer a 5xx, and the app still answers GET /health 200 afterwards.
 *
 * On failure fast-check prints the seed, the path and the shrunk counterexample. To replay it:
 * FUZZ_SEED=<seed> FUZZ_PATH=<path> npm test -- test/fuzz.e2e.spec.ts
 */

const ADMIN_EMAIL = 'fuzz-admin@example.com';
const ADMIN_PASSWORD = 'fuzz admin password';

/** Runs per property: the whole file stays well under a minute on a busy 2-core machine. */
const RUNS = Number(process.env.FUZZ_RUNS ?? 250);
const replay = process.env.FUZZ_SEED
  ? { seed: Number(process.env.FUZZ_SEED), path: process.env.FUZZ_PATH }
  : {};

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete' | 'options' | 'head';
const METHODS: Method[] = ['get', 'post', 'put', 'patch', 'delete', 'options', 'head'];

interface Endpoint {
  method: Method;
  /** `:id` is replaced by a generated path segment. */
  path: string;
  bearer?: boolean;
}

const ENDPOINTS: Endpoint[] = [
  { method: 'post', path: '/auth/register' },
  { method: 'post', path: '/auth/login' },
  { method: 'post', path: '/auth/refresh' },
  { method: 'post', path: '/auth/logout' },
  { method: 'post', path: '/auth/logout-all', bearer: true },
  { method: 'post', path: '/auth/password', bearer: true },
  { method: 'get', path: '/auth/me', bearer: true },
  { method: 'get', path: '/auth/sessions', bearer: true },
  { method: 'delete', path: '/auth/sessions/:id', bearer: true },
  { method: 'patch', path: '/admin/users/:id', bearer: true },
  { method: 'post', path: '/oauth/token' },
  { method: 'post', path: '/oauth/revoke' },
  { method: 'get', path: '/.well-known/jwks.json' },
  { method: 'get', path: '/.well-known/oauth-authorization-server' },
  { method: 'get', path: '/health' },
  { method: 'get', path: '/demo/public' },
  { method: 'get', path: '/demo/private', bearer: true },
  { method: 'get', path: '/demo/admin', bearer: true },
];
const BEARER_ENDPOINTS = ENDPOINTS.filter((endpoint) => endpoint.bearer);

/** One generated request. Payloads are sent as raw bytes: superagent never re-serialises them. */
interface Attempt {
  method: Method;
  path: string;
  contentType?: string;
  payload?: string | Uint8Array;
  headers: Record<string, string>;
}

async function send(t: TestApp, attempt: Attempt): Promise<Response> {
  const request = t.http()[attempt.method](attempt.path).timeout(10_000);
  for (const [name, value] of Object.entries(attempt.headers)) request.set(name, value);
  if (attempt.contentType !== undefined) request.set('Content-Type', attempt.contentType);
  // superagent announces a HEAD body's length but never sends it: a framing error, not fuzz.
  if (attempt.payload !== undefined && attempt.method !== 'head') {
    // The bytes as they are: superagent would JSON-encode a Buffer sent as application/json.
    request.serialize((data: unknown) => data as string).send(Buffer.from(attempt.payload));
  }
  return await request;
}

/** The property: no 5xx, and the app still answers GET /health 200 afterwards. */
async function expectSurvives(t: TestApp, attempt: Attempt): Promise<Response> {
  const response = await send(t, attempt);
  if (response.status >= 500) {
    throw new Error(
      `${attempt.method.toUpperCase()} ${attempt.path} answered ${response.status}: ${(response.text ?? '').slice(0, 500)}`,
    );
  }
  const health = await t.http().get('/health').timeout(10_000);
  if (health.status !== 200) {
    throw new Error(`GET /health answered ${health.status} afterwards: ${health.text}`);
  }
  return response;
}

/** `arbitrary` once in `n` runs, undefined otherwise. */
function sometimes<T>(arbitrary: fc.Arbitrary<T>, n: number): fc.Arbitrary<T | undefined> {
  return fc.oneof({ arbitrary: fc.constant(undefined), weight: n - 1 }, { arbitrary, weight: 1 });
}

// ---------------------------------------------------------------------------------------------
// Strings, JSON fragments and bodies

/** Code points that break naive handling: NUL, lone surrogates, BOM, bidi, separators... */
const nastyUnit = fc.constantFrom(
  '\u0000',
  '\ud800',
  '\udbff',
  '\udc00',
  '\udfff',
  '\ufeff',
  '\ufffe',
  '\uffff',
  '\u202e',
  '\u0085',
  '\u2028',
  '\u{10ffff}',
  '\u{1f600}',
  '\\',
  '"',
  "'",
  '%00',
  '%',
  '${',
  '<script>',
  '\r\n',
  'é',
  '@',
);
const weirdString = fc.oneof(
  fc.string({
    unit: fc.oneof(nastyUnit, fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })),
    maxLength: 40,
  }),
  fc.string({ unit: 'binary', maxLength: 60 }),
  fc.emailAddress(),
);

const FIELD_NAMES = [
  'email',
  'password',
  'name',
  'device',
  'device_id',
  'refresh_token',
  'currentPassword',
  'newPassword',
  'disabled',
  'roles',
  'grant_type',
  'username',
  'client_id',
  'client_secret',
  'token',
  'token_type_hint',
  'scope',
  'id',
  'isAdmin',
];
const PROTO_KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'valueOf',
  '__defineGetter__',
];
const key = fc.oneof(
  { arbitrary: fc.constantFrom(...FIELD_NAMES), weight: 4 },
  { arbitrary: fc.constantFrom(...PROTO_KEYS), weight: 2 },
  { arbitrary: weirdString, weight: 1 },
);

const HUGE_NUMBERS = [
  '1e400',
  '-1e400',
  '1e-400',
  '-0',
  '0e0',
  '9007199254740993',
  '123456789012345678901234567890123456789',
  '1'.repeat(400),
  '0.1e1000000',
  '-' + '9'.repeat(300),
];

/** JSON scalars as text, from plausible to absurd. */
const jsonScalar = fc.oneof(
  weirdString.map((s) => JSON.stringify(s)),
  fc.constantFrom(...HUGE_NUMBERS),
  fc.double().map((n) => JSON.stringify(n)),
  fc.integer().map(String),
  fc.bigInt({ min: -(10n ** 40n), max: 10n ** 40n }).map(String),
  fc.boolean().map(String),
  fc.constant('null'),
  // Values that pass some validation, so requests get past the validation pipe.
  fc
    .constantFrom(
      'correct horse battery',
      'someone@example.com',
      ADMIN_EMAIL,
      'password',
      'refresh_token',
      'client_credentials',
      'admin',
      'access_token',
    )
    .map((s) => JSON.stringify(s)),
);

/** A JSON value as text: keys may repeat and include `__proto__` / `constructor`. */
const jsonText: fc.Arbitrary<string> = fc.letrec<{ value: string; array: string; object: string }>(
  (tie) => ({
    value: fc.oneof({ depthSize: 'small', maxDepth: 4 }, jsonScalar, tie('array'), tie('object')),
    array: fc.array(tie('value'), { maxLength: 5 }).map((items) => `[${items.join(',')}]`),
    object: fc
      .array(fc.tuple(key, tie('value')), { maxLength: 6 })
      .map((entries) => `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`),
  }),
).value;

/** Objects with the endpoints' own fields, holding weird values. */
const jsonObjectText = fc
  .array(fc.tuple(key, jsonText), { minLength: 1, maxLength: 6 })
  .map((entries) => `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`);

/** `fc.anything()` serialised however it can be (BigInt, Map, null prototypes...). */
const anythingText = fc
  .anything({
    maxDepth: 3,
    withBigInt: true,
    withBoxedValues: true,
    withDate: true,
    withMap: true,
    withSet: true,
    withNullPrototype: true,
    withSparseArray: true,
    withTypedArray: true,
    stringUnit: 'binary',
  })
  .map((value) => {
    try {
      const text = JSON.stringify(value, (_key, v: unknown) =>
        typeof v === 'bigint' ? v.toString() : v,
      );
      return text ?? fc.stringify(value);
    } catch {
      return fc.stringify(value);
    }
  });

/** Nesting depth of the general properties; the dedicated test below goes much deeper. */
const KNOWN_SAFE_DEPTH = 2_000;

/** Deeply nested JSON (arrays, objects, or arrays inside a field), always under 16 KiB. */
function deepNesting(minDepth: number, maxDepth: number): fc.Arbitrary<string> {
  return fc
    .tuple(
      fc.integer({ min: minDepth, max: maxDepth }),
      fc.constantFrom('array', 'object', 'field'),
    )
    .map(([depth, kind]) => {
      if (kind === 'array') return '['.repeat(depth) + ']'.repeat(depth);
      // 6 bytes a level: at most 2,600 levels fit in the body limit.
      const levels = Math.min(depth, 2_600);
      if (kind === 'object') return '{"a":'.repeat(levels) + '1' + '}'.repeat(levels);
      const nested = '['.repeat(depth) + ']'.repeat(depth);
      return `{"email":${nested},"password":"correct horse battery"}`;
    });
}

const pollution = fc.constantFrom(
  '{"__proto__":{"roles":["admin"],"isAdmin":true}}',
  '{"constructor":{"prototype":{"roles":["admin"]}}}',
  '{"email":"someone@example.com","password":"correct horse battery","__proto__":{"disabled":false}}',
  '{"refresh_token":"x","__proto__":{"refresh_token":"y"}}',
  '[{"__proto__":{"polluted":true}}]',
  '{"a":{"b":{"__proto__":{"polluted":true}}}}',
  '{"roles":{"__proto__":["admin"]},"disabled":{"constructor":{"prototype":true}}}',
  '{"grant_type":"password","username":{"__proto__":"x"},"password":"correct horse battery"}',
);

/** Bodies over the 16 KiB limit and around it. */
const oversized = fc
  .integer({ min: 15_000, max: 24_000 })
  .map((size) => JSON.stringify({ email: 'a'.repeat(size), password: 'correct horse battery' }));

/** Byte-exact percent-encoding, for strings `encodeURIComponent` refuses (lone surrogates). */
function percentEncode(value: string): string {
  return [...Buffer.from(value, 'utf8')]
    .map((byte) =>
      /[A-Za-z0-9_.~-]/.test(String.fromCharCode(byte))
        ? String.fromCharCode(byte)
        : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`,
    )
    .join('');
}

const formBody = fc
  .array(
    fc.tuple(
      fc.oneof(
        key,
        fc.constantFrom('roles[]', '__proto__[roles]', 'a[b][c]', 'constructor[prototype]'),
      ),
      fc.oneof(weirdString, fc.constantFrom('password', 'refresh_token', 'correct horse battery')),
      fc.boolean(),
    ),
    { maxLength: 6 },
  )
  .map((entries) =>
    entries
      .map(([k, v, raw]) => (raw ? `${k}=${v}` : `${percentEncode(k)}=${percentEncode(v)}`))
      .join('&'),
  );

const multipartBody = fc
  .tuple(
    fc.constantFrom('X', 'boundary', '----fuzz', ''),
    fc.array(fc.tuple(key, weirdString), { maxLength: 4 }),
    fc.boolean(),
  )
  .map(
    ([boundary, parts, closed]) =>
      parts
        .map(
          ([name, value]) =>
            `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`,
        )
        .join('') + (closed ? `--${boundary}--\r\n` : ''),
  );

/** A JSON document whose string bytes are invalid UTF-8 (a CESU-8 surrogate, a stray byte). */
const invalidUtf8Json = fc
  .tuple(
    fc.constantFrom('email', 'password', 'refresh_token', 'name', 'username'),
    fc.constantFrom([0xed, 0xa0, 0x80], [0xff], [0xc0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0x00]),
  )
  .map(([field, bytes]) =>
    Uint8Array.from([
      ...Buffer.from(`{"${field}":"a`),
      ...bytes,
      ...Buffer.from('b","password":"correct horse battery"}'),
    ]),
  );

const payload: fc.Arbitrary<string | Uint8Array | undefined> = fc.oneof(
  { arbitrary: jsonObjectText, weight: 6 },
  { arbitrary: jsonText, weight: 2 },
  { arbitrary: fc.json({ maxDepth: 3, stringUnit: 'binary' }), weight: 2 },
  { arbitrary: anythingText, weight: 2 },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 200 }), weight: 1 },
  { arbitrary: fc.uint8Array({ maxLength: 300 }), weight: 1 },
  { arbitrary: invalidUtf8Json, weight: 1 },
  { arbitrary: deepNesting(1, KNOWN_SAFE_DEPTH), weight: 1 },
  { arbitrary: pollution, weight: 1 },
  { arbitrary: oversized, weight: 1 },
  { arbitrary: formBody, weight: 2 },
  { arbitrary: multipartBody, weight: 1 },
  { arbitrary: fc.constantFrom('', 'null', '{}', '[]', '"', '{', '}', '0', 'true'), weight: 1 },
  { arbitrary: fc.constant(undefined), weight: 1 },
);

interface Body {
  contentType?: string;
  payload?: string | Uint8Array;
}

/** Strings of a given length range made of hostile and ordinary code points. */
function text(minLength: number, maxLength: number): fc.Arbitrary<string> {
  return fc.string({
    unit: fc.oneof(
      { arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }), weight: 4 },
      { arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }), weight: 2 },
      { arbitrary: nastyUnit, weight: 1 },
    ),
    minLength,
    maxLength,
  });
}

/**
 * Bodies shaped like each endpoint's own, with values from valid to hostile, so that requests
 * get past the validation pipe into the services and the database.
 */
function shapedBody(endpoint: Endpoint, knownEmail: string): fc.Arbitrary<Body> {
  /** Mostly values that pass validation (with hostile code points inside), sometimes not. */
  const validOr = <T>(valid: fc.Arbitrary<T>, hostile: fc.Arbitrary<unknown>) =>
    fc.oneof({ arbitrary: valid, weight: 4 }, { arbitrary: hostile, weight: 1 });
  const email = validOr(
    fc.oneof(
      fc
        .tuple(fc.stringMatching(/^[a-z0-9][a-z0-9._+-]{0,20}$/), fc.domain())
        .map(([local, domain]) => `${local}@${domain}`),
      fc.constantFrom(knownEmail, knownEmail.toUpperCase(), ` ${knownEmail}\t`),
    ),
    fc.oneof(
      fc.emailAddress(),
      fc.tuple(text(1, 4), fc.emailAddress()).map(([prefix, address]) => prefix + address),
      fc.emailAddress().map((address) => address.replace('@', '\u0000@')),
      weirdString,
    ),
  );
  const password = validOr(
    fc.oneof(fc.constant('correct horse battery'), text(8, 128)),
    fc.oneof(text(0, 7), text(129, 140), weirdString),
  );
  const token = validOr(
    // Both shapes: tokens of the current scheme, and of the release before chains.
    fc.oneof(fc.stringMatching(/^[A-Za-z0-9_-]{92}$/), fc.stringMatching(/^[A-Za-z0-9_-]{43}$/)),
    fc.oneof(fc.base64String({ maxLength: 100 }), text(0, 600), weirdString),
  );
  const label = validOr(text(0, 100), fc.oneof(text(101, 120), weirdString));
  const deviceId = validOr(text(8, 200), fc.oneof(text(0, 7), text(201, 220), weirdString));
  const role = fc.stringMatching(/^[A-Za-z][A-Za-z0-9_:.-]{0,49}$/);
  const shapes: Record<string, Record<string, fc.Arbitrary<unknown>>> = {
    '/auth/register': { email, password, name: label },
    '/auth/login': { email, password, device: label, device_id: deviceId },
    '/auth/refresh': { refresh_token: token, device_id: deviceId },
    '/auth/logout': { refresh_token: token },
    // Never the real current password: the user keeps it.
    '/auth/password': {
      currentPassword: validOr(text(0, 128), weirdString),
      newPassword: password,
    },
    '/admin/users/:id': {
      disabled: fc.oneof(fc.boolean(), fc.jsonValue({ maxDepth: 1 })),
      roles: fc.oneof(
        fc.array(role, { maxLength: 22 }),
        fc.array(weirdString, { maxLength: 3 }),
        fc.jsonValue({ maxDepth: 2 }),
      ),
    },
    '/oauth/token': {
      grant_type: fc.oneof(
        fc.constantFrom('password', 'refresh_token', 'client_credentials', 'authorization_code'),
        weirdString,
      ),
      username: email,
      password,
      refresh_token: token,
      client_id: weirdString,
      scope: weirdString,
      device_id: deviceId,
    },
    '/oauth/revoke': {
      token,
      token_type_hint: fc.constantFrom('refresh_token', 'access_token', 'x'),
      client_id: weirdString,
    },
  };
  const shape = shapes[endpoint.path];
  const random = fc.record({ contentType, payload });
  if (!shape) return random;
  const fields = fc
    .tuple(
      fc.oneof(fc.record(shape), fc.record(shape, { requiredKeys: [] })),
      sometimes(fc.tuple(key, fc.jsonValue({ maxDepth: 2 })), 4),
    )
    .map(([values, extra]) => {
      const entries: [string, unknown][] = Object.entries(values);
      if (extra) entries.push(extra);
      return entries;
    });
  const json = fields.map((entries): Body => ({
    contentType: 'application/json',
    payload: `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`,
  }));
  const form = fields.map((entries): Body => ({
    contentType: 'application/x-www-form-urlencoded',
    payload: entries
      .map(
        ([k, v]) =>
          `${percentEncode(k)}=${percentEncode(typeof v === 'string' ? v : JSON.stringify(v))}`,
      )
      .join('&'),
  }));
  return endpoint.path.startsWith('/oauth/')
    ? fc.oneof({ arbitrary: json, weight: 2 }, { arbitrary: form, weight: 2 }, random)
    : fc.oneof({ arbitrary: json, weight: 3 }, random);
}

// ---------------------------------------------------------------------------------------------
// Headers

/** Characters Node's HTTP client lets into a header value (it refuses control characters). */
const headerChar = fc.oneof(
  { arbitrary: fc.integer({ min: 0x20, max: 0x7e }), weight: 8 },
  { arbitrary: fc.integer({ min: 0x80, max: 0xff }), weight: 1 },
  { arbitrary: fc.constant(0x09), weight: 1 },
);
const headerValue = fc.string({
  unit: headerChar.map((code) => String.fromCharCode(code)),
  maxLength: 120,
});

const contentType = fc.oneof(
  { arbitrary: fc.constant('application/json'), weight: 8 },
  {
    arbitrary: fc.constantFrom(
      'application/json; charset=utf-8',
      'APPLICATION/JSON',
      'application/json;charset=utf-16',
      'application/json; charset=bogus',
      'application/json ;',
      'application/json, text/plain',
      'application/vnd.api+json',
      'application/merge-patch+json',
      'text/plain',
      'text/plain; charset=utf-8',
      'application/x-www-form-urlencoded',
      'application/x-www-form-urlencoded; charset=utf-8',
      'multipart/form-data',
      'multipart/form-data; boundary=X',
      'application/octet-stream',
      'text/html',
      'application/xml',
      '*/*',
      'application/',
      '/',
      ';',
      '',
    ),
    weight: 5,
  },
  { arbitrary: headerValue, weight: 1 },
  { arbitrary: fc.constant(undefined), weight: 2 },
);

const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,30}$/;
/** Framing headers supertest cannot lie about without breaking the connection itself. */
const FRAMING = new Set([
  'content-length',
  'transfer-encoding',
  'expect',
  'connection',
  'upgrade',
  'te',
  'trailer',
  'keep-alive',
  'proxy-connection',
  'content-type',
  'host',
]);
const randomHeaders = fc.dictionary(
  fc.stringMatching(HEADER_NAME).filter((name) => !FRAMING.has(name.toLowerCase())),
  headerValue,
  { maxKeys: 3 },
);

/** What a real app's tokens look like, for headers that mutate or imitate them. */
interface Known {
  accessToken: string;
  refreshToken: string;
  kid: string;
  userId: string;
  sessionId: string;
}

const b64url = (value: string | Uint8Array) => Buffer.from(value).toString('base64url');

function jwtLike(known: Known): fc.Arbitrary<string> {
  const header = fc.record(
    {
      alg: fc.oneof(
        fc.constantFrom('none', 'None', 'HS256', 'ES256', 'RS256', 'ES512', 'PS256', ''),
        jsonScalar,
      ),
      typ: fc.oneof(fc.constantFrom('at+jwt', 'JWT', 'refresh+jwt'), weirdString),
      kid: fc.oneof(fc.constant(known.kid), weirdString, fc.integer(), fc.constant(null)),
      jku: fc.constant('http://127.0.0.1:1/jwks.json'),
      crit: fc.array(weirdString, { maxLength: 2 }),
    },
    { requiredKeys: [] },
  );
  const claims = fc.record(
    {
      sub: fc.oneof(fc.constant(known.userId), fc.uuid(), weirdString, fc.integer()),
      sid: fc.oneof(fc.constant(known.sessionId), fc.uuid(), weirdString),
      exp: fc.oneof(fc.integer(), fc.double(), fc.constant(9e15), weirdString),
      nbf: fc.oneof(fc.integer(), fc.constant(-1)),
      iat: fc.integer(),
      iss: fc.oneof(fc.constant('http://localhost:3000'), weirdString),
      aud: fc.oneof(fc.constant('api'), fc.array(weirdString, { maxLength: 2 })),
      roles: fc.oneof(fc.constant(['admin']), fc.array(weirdString, { maxLength: 3 }), weirdString),
      jti: weirdString,
    },
    { requiredKeys: [] },
  );
  const segment = fc.oneof(
    { arbitrary: header.map((h) => b64url(JSON.stringify(h))), weight: 3 },
    { arbitrary: jsonText.map(b64url), weight: 1 },
    { arbitrary: weirdString.map(b64url), weight: 1 },
    { arbitrary: fc.stringMatching(/^[A-Za-z0-9_=+/-]{0,40}$/), weight: 1 },
  );
  const signature = fc.oneof(
    fc.uint8Array({ maxLength: 96 }).map(b64url),
    fc.constant(known.accessToken.split('.')[2]),
    fc.constant(''),
  );
  const forged = fc
    .tuple(
      segment,
      claims.map((c) => b64url(JSON.stringify(c))),
      signature,
    )
    .map((parts) => parts.join('.'));
  const oddShape = fc
    .array(fc.stringMatching(/^[A-Za-z0-9_-]{0,30}$/), { minLength: 1, maxLength: 6 })
    .map((parts) => parts.join('.'));
  const mutatedReal = fc
    .tuple(
      fc.nat(known.accessToken.length - 1),
      fc.constantFrom('flip', 'truncate', 'append', 'dot'),
      fc.stringMatching(/^[A-Za-z0-9_-]{1,8}$/),
    )
    .map(([at, how, extra]) => {
      const token = known.accessToken;
      if (how === 'truncate') return token.slice(0, at);
      if (how === 'append') return token + extra;
      if (how === 'dot') return `${token.slice(0, at)}.${token.slice(at)}`;
      const flipped = token[at] === 'A' ? 'B' : 'A';
      return token.slice(0, at) + flipped + token.slice(at + 1);
    });
  return fc.oneof(forged, oddShape, mutatedReal);
}

function authorization(known: Known): fc.Arbitrary<string> {
  return fc.oneof(
    { arbitrary: jwtLike(known).map((token) => `Bearer ${token}`), weight: 5 },
    { arbitrary: headerValue, weight: 2 },
    {
      arbitrary: fc
        .tuple(
          fc.constantFrom(
            'Bearer',
            'bearer',
            'BEARER',
            'Basic',
            'Token',
            'Bearer ',
            'Bearer\t',
            '',
          ),
          headerValue,
        )
        .map(([scheme, value]) => `${scheme} ${value}`),
      weight: 2,
    },
    {
      arbitrary: fc.integer({ min: 1_000, max: 8_000 }).map((n) => `Bearer ${'A'.repeat(n)}`),
      weight: 1,
    },
    {
      arbitrary: fc.constantFrom(
        'Bearer',
        'Bearer ',
        `Bearer ${known.refreshToken}`,
        `Bearer ${known.accessToken} ${known.accessToken}`,
        `Bearer ${known.accessToken},Bearer x`,
        `Basic ${Buffer.from('admin:admin').toString('base64')}`,
      ),
      weight: 1,
    },
  );
}

function cookie(known: Known): fc.Arbitrary<string> {
  const value = fc.oneof(
    headerValue.filter((v) => !v.includes(';')),
    fc.constantFrom(
      '%E0%A4%A',
      '%',
      '"quoted"',
      '""',
      known.refreshToken,
      `${known.refreshToken}x`,
      'x'.repeat(4000),
    ),
  );
  return fc.oneof(
    value.map((v) => `refresh_token=${v}`),
    fc.tuple(value, value).map(([a, b]) => `refresh_token=${a}; refresh_token=${b}`),
    fc.tuple(value, headerValue).map(([a, junk]) => `${junk}; refresh_token=${a}`),
    headerValue,
  );
}

function headers(known: Known): fc.Arbitrary<Record<string, string>> {
  const auth = fc.record(
    {
      Authorization: authorization(known),
      'Auth-Transport': fc.oneof(
        fc.constantFrom('cookie', 'COOKIE', ' cookie ', 'body', 'cookie, cookie', ''),
        headerValue,
      ),
      Cookie: cookie(known),
    },
    { requiredKeys: [] },
  );
  const rare = fc.record(
    {
      Origin: fc.oneof(
        fc.constantFrom('https://evil.example', 'null', 'http://127.0.0.1'),
        headerValue,
      ),
      Accept: fc.oneof(fc.constantFrom('application/json', 'text/html', '*/*', ''), headerValue),
      'Content-Encoding': fc.constantFrom('gzip', 'br', 'deflate', 'identity', 'x-garbage'),
      'Accept-Encoding': fc.constantFrom('gzip', 'br', 'deflate', '*', 'x-garbage'),
      'X-Forwarded-For': fc.oneof(fc.ipV4(), fc.ipV6(), headerValue),
      'Access-Control-Request-Method': fc.constantFrom('POST', 'DELETE', 'PUT', 'x'),
      'Access-Control-Request-Headers': fc.constantFrom('authorization', 'auth-transport', 'x-y'),
      'User-Agent': fc.oneof(headerValue, fc.constant('u'.repeat(2_000))),
    },
    { requiredKeys: [] },
  );
  return fc
    .tuple(auth, fc.option(rare, { freq: 3 }), fc.option(randomHeaders, { freq: 3 }))
    .map(([chosen, more, extra]) => ({ ...extra, ...more, ...chosen }));
}

/** A path segment for `:id`: UUIDs, known ids, percent-encoded garbage, traversal. */
function pathSegment(ids: string[]): fc.Arbitrary<string> {
  return fc.oneof(
    fc.constantFrom(...ids),
    fc.uuid(),
    weirdString.map(percentEncode),
    fc.constantFrom(
      '%',
      '%zz',
      '%00',
      '%ED%A0%80',
      '%FF',
      '..%2F..%2Fetc%2Fpasswd',
      '..',
      'a%2Fb',
      '00000000-0000-0000-0000-000000000000',
      'FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF',
      '1',
      '-1',
      'null',
      'x'.repeat(3000),
    ),
  );
}

function endpointPath(endpoint: Endpoint, id: string): string {
  return endpoint.path.replace(':id', id);
}

// ---------------------------------------------------------------------------------------------

describe('fuzzing every endpoint (fast-check)', () => {
  let t: TestApp;
  let user: Awaited<ReturnType<typeof signUp>>;
  let victim: Awaited<ReturnType<typeof signUp>>;
  let adminId: string;
  /** Live sessions the valid-credential properties use; renewed when a request ends one. */
  const live: { user?: TokenPair; admin?: TokenPair; refresher?: TokenPair } = {};
  let refresherEmail: string;
  let known: Known;

  beforeAll(async () => {
    t = await createTestApp({
      AUTH_ADMIN_EMAIL: ADMIN_EMAIL,
      AUTH_ADMIN_PASSWORD: ADMIN_PASSWORD,
      // Limits must not turn the fuzzing into a test of the rate limiter.
      AUTH_RATE_LIMIT: '100000',
      AUTH_LOGIN_MAX_FAILURES: '100000',
    });
    user = await signUp(t);
    victim = await signUp(t);
    const refresher = await signUp(t);
    refresherEmail = refresher.email;
    live.user = user.tokens;
    live.refresher = refresher.tokens;
    live.admin = await login(t, ADMIN_EMAIL, ADMIN_PASSWORD);
    adminId = decodeJwt(live.admin.access_token).payload.sub;
    // Headers imitate and mutate a decoy's tokens: a mutation that still verifies (a flipped
    // padding bit) may end the decoy's sessions, never those the other properties use.
    const decoy = await signUp(t);
    known = {
      accessToken: decoy.tokens.access_token,
      refreshToken: decoy.tokens.refresh_token,
      kid: decodeJwt(decoy.tokens.access_token).header.kid,
      userId: decoy.id,
      sessionId: decoy.tokens.session_id,
    };
  }, 60_000);
  afterAll(() => t?.close());

  it('answers anything sent anywhere, anyhow, without a 5xx', async () => {
    const attempt = fc.record({
      endpoint: fc.oneof(
        { arbitrary: fc.constantFrom(...ENDPOINTS), weight: 10 },
        {
          arbitrary: fc
            .stringMatching(/^\/(auth|oauth|admin|demo|\.well-known)\/[\w./%-]{0,30}$/)
            .map((path): Endpoint => ({ method: 'get', path })),
          weight: 1,
        },
      ),
      otherMethod: sometimes(fc.constantFrom(...METHODS), 3),
      id: pathSegment([user.id, victim.id, adminId, user.tokens.session_id]),
      contentType,
      payload,
      headers: headers(known),
    });
    await fc.assert(
      fc.asyncProperty(attempt, async (a) => {
        await expectSurvives(t, {
          method: a.otherMethod ?? a.endpoint.method,
          path: endpointPath(a.endpoint, a.id),
          contentType: a.contentType,
          payload: a.payload,
          headers: a.headers,
        });
      }),
      { numRuns: RUNS, ...replay },
    );
  }, 120_000);

  it('answers malformed bodies to each endpoint’s own method without a 5xx', async () => {
    const attempt = fc.record({
      endpointAndBody: fc.oneof(
        ...ENDPOINTS.map((endpoint) =>
          fc.tuple(fc.constant(endpoint), shapedBody(endpoint, user.email)),
        ),
      ),
      id: pathSegment([user.id, victim.id]),
    });
    await fc.assert(
      fc.asyncProperty(attempt, async ({ endpointAndBody: [endpoint, body], id }) => {
        await expectSurvives(t, {
          method: endpoint.method,
          path: endpointPath(endpoint, id),
          ...body,
          headers: {},
        });
      }),
      { numRuns: RUNS, ...replay },
    );
  }, 120_000);

  // class-transformer recurses once per level: AuthValidationPipe refuses deep bodies first.
  it('answers deeply nested JSON bodies without a 5xx', async () => {
    const dtoEndpoints = ENDPOINTS.filter((endpoint) =>
      [
        '/auth/register',
        '/auth/login',
        '/auth/refresh',
        '/auth/logout',
        '/auth/password',
        '/admin/users/:id',
      ].includes(endpoint.path),
    );
    const attempt = fc.record({
      endpoint: fc.constantFrom(...dtoEndpoints),
      payload: deepNesting(2_500, 7_000),
    });
    await fc.assert(
      fc.asyncProperty(attempt, async (a) => {
        const bearer = a.endpoint.path.startsWith('/admin') ? live.admin! : live.user!;
        await expectSurvives(t, {
          method: a.endpoint.method,
          path: endpointPath(a.endpoint, victim.id),
          contentType: 'application/json',
          payload: a.payload,
          headers: { Authorization: `Bearer ${bearer.access_token}` },
        });
      }),
      { numRuns: 20, ...replay },
    );
  }, 60_000);

  // validator.js's isEmail calls encodeURI, which throws on a lone surrogate: the DTO replaces them.
  it('answers an email holding a lone surrogate without a 5xx', async () => {
    const attempt = fc.record({
      path: fc.constantFrom('/auth/register', '/auth/login'),
      local: fc.stringMatching(/^[a-z0-9]{1,20}$/),
      at: fc.nat(),
      surrogate: fc.constantFrom('\ud800', '\udbff', '\udc00', '\udfff'),
    });
    await fc.assert(
      fc.asyncProperty(attempt, async (a) => {
        const at = a.at % (a.local.length + 1);
        const email = `${a.local.slice(0, at)}${a.surrogate}${a.local.slice(at)}@example.com`;
        const response = await send(t, {
          method: 'post',
          path: a.path,
          contentType: 'application/json',
          payload: JSON.stringify({ email, password: 'correct horse battery' }),
          headers: {},
        });
        expect(response.status).toBeLessThan(500);
      }),
      { numRuns: 20, ...replay },
    );
  });

  // Found by this file: the password grant's username reached SQL unvalidated and U+0000 made
  // PostgreSQL fail (22021), a 500. OAuthParameters now refuses NUL in any parameter.
  it('answers an OAuth username holding U+0000 without a 5xx', async () => {
    const attempt = fc.record({
      form: fc.boolean(),
      local: fc.stringMatching(/^[a-z0-9]{0,20}$/),
      at: fc.nat(),
    });
    await fc.assert(
      fc.asyncProperty(attempt, async (a) => {
        const at = a.at % (a.local.length + 1);
        const fields = {
          grant_type: 'password',
          username: `${a.local.slice(0, at)}\u0000${a.local.slice(at)}@example.com`,
          password: 'correct horse battery',
        };
        const response = await send(t, {
          method: 'post',
          path: '/oauth/token',
          contentType: a.form ? 'application/x-www-form-urlencoded' : 'application/json',
          payload: a.form ? new URLSearchParams(fields).toString() : JSON.stringify(fields),
          headers: {},
        });
        expect(response.status).toBeLessThan(500);
      }),
      { numRuns: 20, ...replay },
    );
  });

  /** Logs a session in again when a fuzzed request may have ended it. */
  async function renew(who: 'user' | 'admin'): Promise<void> {
    const current = live[who]!;
    const me = await t
      .http()
      .get('/auth/me')
      .set('Authorization', `Bearer ${current.access_token}`);
    if (me.status === 200) return;
    live[who] =
      who === 'admin' ? await login(t, ADMIN_EMAIL, ADMIN_PASSWORD) : await login(t, user.email);
  }

  it('answers malformed bodies and headers with a real access token without a 5xx', async () => {
    const attempt = fc.record({
      who: fc.constantFrom('user' as const, 'admin' as const),
      endpointAndBody: fc.oneof(
        ...BEARER_ENDPOINTS.map((endpoint) =>
          fc.tuple(fc.constant(endpoint), shapedBody(endpoint, victim.email)),
        ),
      ),
      // Not the user's own id: an admin PATCH could disable the user the test logs in again.
      id: fc.oneof(fc.constantFrom('<own session>', victim.id, adminId), pathSegment([victim.id])),
      extra: fc.record(
        {
          'Auth-Transport': fc.constantFrom('cookie', 'body', ''),
          Cookie: cookie(known),
          'X-Forwarded-For': fc.ipV4(),
        },
        { requiredKeys: [] },
      ),
    });
    await fc.assert(
      fc.asyncProperty(attempt, async (a) => {
        const [endpoint, body] = a.endpointAndBody;
        const tokens = live[a.who]!;
        const id = a.id === '<own session>' ? tokens.session_id : a.id;
        const response = await expectSurvives(t, {
          method: endpoint.method,
          path: endpointPath(endpoint, id),
          ...body,
          headers: { ...a.extra, Authorization: `Bearer ${tokens.access_token}` },
        });
        if (response.status < 300 && endpoint.method !== 'get') await renew(a.who);
      }),
      { numRuns: RUNS, ...replay },
    );
  }, 120_000);

  it('answers a real refresh token wrapped in malformed requests without a 5xx', async () => {
    const endpoints = fc.constantFrom(
      '/auth/refresh',
      '/auth/refresh',
      '/oauth/token',
      '/oauth/token',
      '/auth/logout',
      '/oauth/revoke',
    );
    const attempt = fc.record({
      path: endpoints,
      form: fc.boolean(),
      cookieTransport: fc.boolean(),
      grantType: fc.oneof(fc.constantFrom('refresh_token', 'password', ''), weirdString),
      extra: fc.array(fc.tuple(key, jsonText), { maxLength: 3 }),
      tokenShape: fc.constantFrom('as is', 'twice', 'array', 'padded', 'object'),
    });
    await fc.assert(
      fc.asyncProperty(attempt, async (a) => {
        const token = live.refresher!.refresh_token;
        const value =
          a.tokenShape === 'array'
            ? JSON.stringify([token])
            : a.tokenShape === 'padded'
              ? JSON.stringify(` ${token}\u0000`)
              : a.tokenShape === 'object'
                ? JSON.stringify({ value: token })
                : JSON.stringify(token);
        const oauth = a.path.startsWith('/oauth');
        const tokenField = a.path === '/oauth/revoke' ? 'token' : 'refresh_token';
        const fields: [string, string][] = [
          [tokenField, value],
          ...(a.tokenShape === 'twice' ? [[tokenField, value] as [string, string]] : []),
          ...(oauth ? [['grant_type', JSON.stringify(a.grantType)] as [string, string]] : []),
          ...a.extra,
        ];
        const body = a.form
          ? fields.map(([k, v]) => `${percentEncode(k)}=${percentEncode(formValue(v))}`).join('&')
          : `{${fields.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`;
        const response = await expectSurvives(t, {
          method: 'post',
          path: a.path,
          contentType: a.form ? 'application/x-www-form-urlencoded' : 'application/json',
          payload: body,
          headers: a.cookieTransport
            ? { 'Auth-Transport': 'cookie', Cookie: `refresh_token=${token}` }
            : {},
        });
        // Follow the rotation, or log in again once the session has ended.
        const rotated: unknown = response.body?.refresh_token ?? cookieValue(response);
        if (response.status === 200 && typeof rotated === 'string') {
          live.refresher = { ...live.refresher!, refresh_token: rotated };
        } else if (response.status < 300) {
          live.refresher = await login(t, refresherEmail);
        }
      }),
      { numRuns: Math.ceil(RUNS / 2), ...replay },
    );
  }, 120_000);

  it('still serves a normal login, refresh and guarded request afterwards', async () => {
    await t.http().get('/health').expect(200);
    const tokens = await login(t, user.email);
    const refreshed = await t
      .http()
      .post('/auth/refresh')
      .send({ refresh_token: tokens.refresh_token })
      .expect(200);
    await t
      .http()
      .get('/auth/me')
      .set('Authorization', `Bearer ${refreshed.body.access_token}`)
      .expect(200);
  });
});

/** A form field's value for a JSON fragment: the string itself, or the JSON text. */
function formValue(json: string): string {
  const value: unknown = JSON.parse(json);
  return typeof value === 'string' ? value : json;
}

function cookieValue(response: Response): string | undefined {
  const setCookie = response.headers['set-cookie'] as string[] | string | undefined;
  const all = Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : [];
  for (const line of all) {
    const match = /^refresh_token=([^;]*)/.exec(line);
    if (match && match[1]) return match[1];
  }
  return undefined;
}
