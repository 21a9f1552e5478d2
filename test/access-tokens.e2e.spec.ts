import { execFile } from 'node:child_process';
import {
  createHash,
  createHmac,
  createPublicKey,
  createSecretKey,
  generateKeyPairSync,
  type KeyObject,
  sign as cryptoSign,
  verify as cryptoVerify,
} from 'node:crypto';
import { promisify } from 'node:util';
import { AppModule } from '../src/app.module';
import { ConfigurationError } from '../src/config/env.validation';
import {
  decodeJwt,
  expectInvalidToken,
  getWithBearer,
  login,
  register,
  signUp,
  withPayload,
} from './support/auth-client';
import { ensureBuilt, MAIN, ROOT } from './support/service-process';
import { createTestApp, type TestApp } from './support/test-app';
import { sleep } from './support/time';

type Alg = 'ES256' | 'RS256' | 'HS256';

/** 40 characters: comfortably above the 32-byte minimum. */
const HS256_SECRET = 'hs256-test-secret-0123456789-abcdefghijk';

const nowSeconds = () => Math.floor(Date.now() / 1000);

function b64(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** A compact JWS made with node:crypto alone. ES256 signatures are raw r||s (RFC 7518 §3.4). */
function signJws(
  header: object,
  payload: object,
  alg: Alg,
  key: KeyObject | string | Buffer,
): string {
  const input = `${b64(header)}.${b64(payload)}`;
  const data = Buffer.from(input);
  let signature: Buffer;
  if (alg === 'HS256') signature = createHmac('sha256', key).update(data).digest();
  else if (alg === 'ES256')
    signature = cryptoSign('sha256', data, { key: key as KeyObject, dsaEncoding: 'ieee-p1363' });
  else signature = cryptoSign('sha256', data, key);
  return `${input}.${signature.toString('base64url')}`;
}

/** Checks a token's signature with node:crypto against `key`. */
function signatureVerifies(token: string, alg: Alg, key: KeyObject): boolean {
  const [header, payload, signature] = token.split('.');
  const data = Buffer.from(`${header}.${payload}`);
  const bytes = Buffer.from(signature, 'base64url');
  if (alg === 'HS256') return createHmac('sha256', key).update(data).digest().equals(bytes);
  if (alg === 'ES256')
    return cryptoVerify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, bytes);
  return cryptoVerify('sha256', data, key, bytes);
}

/** RFC 7638 thumbprint, written out independently of the service's implementation. */
function rfc7638Thumbprint(publicKey: KeyObject): string {
  const jwk = publicKey.export({ format: 'jwk' });
  const canonical =
    jwk.kty === 'EC'
      ? `{"crv":"${jwk.crv}","kty":"EC","x":"${jwk.x}","y":"${jwk.y}"}`
      : `{"e":"${jwk.e}","kty":"RSA","n":"${jwk.n}"}`;
  return createHash('sha256').update(canonical).digest('base64url');
}

/** The same token with some header parameters changed and the original signature kept. */
function withHeader(token: string, changes: Record<string, unknown>): string {
  const [, payload, signature] = token.split('.');
  return `${b64({ ...decodeJwt(token).header, ...changes })}.${payload}.${signature}`;
}

/** The public key of the one key the app generated and stored. */
async function storedPublicKey(
  t: TestApp,
  alg: Alg,
): Promise<{ kid: string; publicKey: KeyObject }> {
  const rows: { kid: string; alg: string; private_key: string }[] = await t.dataSource.query(
    'SELECT kid, alg, private_key FROM auth_signing_keys',
  );
  expect(rows).toHaveLength(1);
  expect(rows[0].alg).toBe(alg);
  return { kid: rows[0].kid, publicKey: createPublicKey(rows[0].private_key) };
}

describe('access-token expiry', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ AUTH_ACCESS_TTL: '1', AUTH_CLOCK_TOLERANCE: '0' });
  });
  afterAll(() => t.close());

  it('accepts the token until it expires, then answers 401 invalid_token', async () => {
    const { email, id } = await register(t);
    // `iat` and `exp` are whole seconds: log in at the start of a second so the token has
    // (nearly) its full second to live when it is first used.
    await sleep(1000 - (Date.now() % 1000) + 10);
    const tokens = await login(t, email);
    expect(tokens.expires_in).toBe(1);
    const { payload } = decodeJwt(tokens.access_token);
    expect(payload.exp - payload.iat).toBe(1);

    const fresh = await getWithBearer(t, '/auth/me', tokens.access_token);
    expect(fresh.status).toBe(200);
    expect(fresh.body.id).toBe(id);

    await sleep(2200);
    expectInvalidToken(await getWithBearer(t, '/auth/me', tokens.access_token));
    expectInvalidToken(await getWithBearer(t, '/demo/private', tokens.access_token));
  });
});

describe.each<{ alg: Alg; env: Record<string, string> }>([
  { alg: 'ES256', env: {} },
  { alg: 'RS256', env: { AUTH_JWT_ALG: 'RS256' } },
  { alg: 'HS256', env: { AUTH_JWT_ALG: 'HS256', AUTH_JWT_SECRET: HS256_SECRET } },
])('$alg access tokens', ({ alg, env }) => {
  let t: TestApp;
  let user: Awaited<ReturnType<typeof signUp>>;
  let token: string;
  let kid: string;
  /** What the token must verify against: the stored key's public half, or the HS256 secret. */
  let verificationKey: KeyObject;

  beforeAll(async () => {
    t = await createTestApp(env);
    user = await signUp(t);
    token = user.tokens.access_token;
    kid = decodeJwt(token).header.kid;
    if (alg === 'HS256') verificationKey = createSecretKey(Buffer.from(HS256_SECRET));
    else {
      const stored = await storedPublicKey(t, alg);
      expect(stored.kid).toBe(kid);
      verificationKey = stored.publicKey;
    }
  });
  afterAll(() => t.close());

  it('has the configured alg, typ at+jwt and a kid, and verifies against the key', async () => {
    const { header, payload } = decodeJwt(token);
    expect(header).toEqual({ alg, typ: 'at+jwt', kid: expect.any(String) });
    expect(kid.length).toBeGreaterThan(0);
    if (alg === 'HS256') expect(kid).not.toContain(HS256_SECRET.slice(0, 8));
    else expect(kid).toBe(rfc7638Thumbprint(verificationKey));
    if (alg === 'ES256') expect(Buffer.from(token.split('.')[2], 'base64url')).toHaveLength(64);
    expect(payload).toMatchObject({ iss: 'http://localhost:3000', aud: 'api', sub: user.id });

    expect(signatureVerifies(token, alg, verificationKey)).toBe(true);
    await getWithBearer(t, '/auth/me', token).expect(200);
  });

  it('rejects a payload changed to roles ["admin"] under the old signature', async () => {
    const tampered = withPayload(token, { roles: ['admin'] });
    expect(signatureVerifies(tampered, alg, verificationKey)).toBe(false);

    expectInvalidToken(await getWithBearer(t, '/demo/admin', tampered));
    expectInvalidToken(await getWithBearer(t, '/auth/me', tampered));
    // The genuine token still works, and is no admin.
    await getWithBearer(t, '/demo/admin', token).expect(403);
  });

  it.each(['none', 'None', 'NONE'])(
    'rejects alg %s, unsigned or with the old signature',
    async (none) => {
      const unsigned = `${b64({ ...decodeJwt(token).header, alg: none })}.${token.split('.')[1]}.`;
      expectInvalidToken(await getWithBearer(t, '/auth/me', unsigned));
      expectInvalidToken(await getWithBearer(t, '/auth/me', withHeader(token, { alg: none })));
      expectInvalidToken(await getWithBearer(t, '/demo/private', unsigned));
    },
  );

  it('rejects the token with its header naming another algorithm', async () => {
    for (const other of ['ES256', 'RS256', 'HS256', 'HS512', 'PS256', 'ES384'].filter(
      (a) => a !== alg,
    )) {
      expectInvalidToken(await getWithBearer(t, '/auth/me', withHeader(token, { alg: other })));
    }
  });

  it('rejects the token with another kid', async () => {
    expectInvalidToken(await getWithBearer(t, '/auth/me', withHeader(token, { kid: `${kid}x` })));
    const noKid = withHeader(token, { kid: undefined });
    expect(decodeJwt(noKid).header).not.toHaveProperty('kid');
    expectInvalidToken(await getWithBearer(t, '/auth/me', noKid));
  });

  if (alg !== 'HS256') {
    it('rejects an HS256 token keyed with our public key (algorithm confusion)', async () => {
      const { payload } = decodeJwt(token);
      const secrets = [
        verificationKey.export({ format: 'pem', type: 'spki' }),
        verificationKey.export({ format: 'der', type: 'spki' }),
      ];
      for (const secret of secrets) {
        const forged = signJws({ alg: 'HS256', typ: 'at+jwt', kid }, payload, 'HS256', secret);
        expectInvalidToken(await getWithBearer(t, '/auth/me', forged));
      }
    });

    it('rejects a token signed by another key, whatever kid or jwk it names', async () => {
      const { payload } = decodeJwt(token);
      const other =
        alg === 'ES256'
          ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
          : generateKeyPairSync('rsa', { modulusLength: 2048 });
      const otherKid = rfc7638Thumbprint(other.publicKey);
      const headers = [
        { alg, typ: 'at+jwt', kid: otherKid },
        { alg, typ: 'at+jwt', kid },
        { alg, typ: 'at+jwt', kid, jwk: other.publicKey.export({ format: 'jwk' }) },
        { alg, typ: 'at+jwt', kid, jku: 'https://attacker.example/jwks.json' },
      ];
      for (const header of headers) {
        const forged = signJws(header, { ...payload, roles: ['admin'] }, alg, other.privateKey);
        expect(signatureVerifies(forged, alg, other.publicKey)).toBe(true);
        expectInvalidToken(await getWithBearer(t, '/demo/admin', forged));
      }
    });
  }

  if (alg === 'HS256') {
    describe('tokens the test signs itself with the secret', () => {
      const mint = (header: Record<string, unknown> = {}, claims: Record<string, unknown> = {}) =>
        signJws(
          { alg: 'HS256', typ: 'at+jwt', kid, ...header },
          { ...decodeJwt(token).payload, ...claims },
          'HS256',
          HS256_SECRET,
        );

      it('accepts a correct one (the signer is right)', async () => {
        const now = nowSeconds();
        const response = await getWithBearer(t, '/auth/me', mint({}, { iat: now, exp: now + 60 }));
        expect(response.status).toBe(200);
        expect(response.body.id).toBe(user.id);
        // RFC 9068 §2.1 also allows the media type spelled out.
        await getWithBearer(t, '/auth/me', mint({ typ: 'application/at+jwt' })).expect(200);
      });

      it('rejects a wrong or missing typ', async () => {
        expectInvalidToken(await getWithBearer(t, '/auth/me', mint({ typ: 'JWT' })));
        expectInvalidToken(await getWithBearer(t, '/auth/me', mint({ typ: 'rt+jwt' })));
        expectInvalidToken(await getWithBearer(t, '/auth/me', mint({ typ: undefined })));
      });

      it('rejects a wrong iss or aud', async () => {
        expectInvalidToken(
          await getWithBearer(t, '/auth/me', mint({}, { iss: 'https://evil.example' })),
        );
        expectInvalidToken(await getWithBearer(t, '/auth/me', mint({}, { iss: undefined })));
        expectInvalidToken(await getWithBearer(t, '/auth/me', mint({}, { aud: 'other-api' })));
        expectInvalidToken(await getWithBearer(t, '/auth/me', mint({}, { aud: undefined })));
      });

      it('rejects an expired token and one not valid yet', async () => {
        const now = nowSeconds();
        expectInvalidToken(
          await getWithBearer(t, '/auth/me', mint({}, { iat: now - 120, exp: now - 60 })),
        );
        expectInvalidToken(await getWithBearer(t, '/auth/me', mint({}, { nbf: now + 60 })));
      });

      it('rejects a token without exp', async () => {
        expectInvalidToken(await getWithBearer(t, '/auth/me', mint({}, { exp: undefined })));
      });

      it('rejects an unknown kid', async () => {
        expectInvalidToken(await getWithBearer(t, '/auth/me', mint({ kid: 'unknown-key' })));
      });

      it('rejects a crit header', async () => {
        expectInvalidToken(await getWithBearer(t, '/auth/me', mint({ crit: ['x'], x: true })));
      });

      it('rejects a token signed with another secret', async () => {
        const forged = signJws(
          { alg: 'HS256', typ: 'at+jwt', kid },
          decodeJwt(token).payload,
          'HS256',
          `${HS256_SECRET}-other`,
        );
        expectInvalidToken(await getWithBearer(t, '/auth/me', forged));
      });

      it('rejects malformed sub, sid or roles claims', async () => {
        expectInvalidToken(await getWithBearer(t, '/auth/me', mint({}, { sub: undefined })));
        expectInvalidToken(await getWithBearer(t, '/auth/me', mint({}, { sid: 42 })));
        expectInvalidToken(await getWithBearer(t, '/auth/me', mint({}, { roles: 'admin' })));
      });
    });
  }
});

describe('malformed bearer credentials', () => {
  let t: TestApp;
  let token: string;

  beforeAll(async () => {
    t = await createTestApp();
    token = (await signUp(t)).tokens.access_token;
  });
  afterAll(() => t.close());

  function withAuthorization(path: string, authorization: string) {
    return t.http().get(path).set('Authorization', authorization);
  }

  /** 401 invalid_token on every guarded route, never 5xx. */
  async function expectRefused(authorization: string): Promise<void> {
    for (const path of ['/auth/me', '/demo/private']) {
      expectInvalidToken(await withAuthorization(path, authorization));
    }
  }

  it('accepts the genuine token, with the scheme in any case (the control)', async () => {
    await getWithBearer(t, '/auth/me', token).expect(200);
    await withAuthorization('/auth/me', `bearer ${token}`).expect(200);
    await withAuthorization('/auth/me', `BEARER ${token}`).expect(200);
  });

  it('rejects a token over 8 KiB', async () => {
    const [header, , signature] = token.split('.');
    const padded = `${header}.${b64({ ...decodeJwt(token).payload, pad: 'x'.repeat(9000) })}.${signature}`;
    expect(padded.length).toBeGreaterThan(8192);
    await expectRefused(`Bearer ${padded}`);
    await expectRefused(`Bearer ${'a'.repeat(9000)}`);
    await expectRefused(`Bearer ${token}${'.a'.repeat(4200)}`);
  });

  it('rejects a header of 2 KiB', async () => {
    const big = withHeader(token, { pad: 'x'.repeat(2048) });
    expect(big.split('.')[0].length).toBeGreaterThan(2048);
    await expectRefused(`Bearer ${big}`);
  });

  it.each([
    ['not JSON', Buffer.from('not json').toString('base64url')],
    ['truncated JSON', Buffer.from('{"alg":"ES256","typ":"at+jwt"').toString('base64url')],
    ['not base64url text', '!!!'],
    ['a JSON array', b64([{ alg: 'ES256', typ: 'at+jwt' }])],
    ['an empty JSON array', b64([])],
    ['a JSON number', b64(42)],
    ['a JSON string', b64('ES256')],
    ['JSON null', b64(null)],
    ['JSON true', b64(true)],
    ['empty', ''],
  ])('rejects a header that is %s', async (_case, header) => {
    const [, payload, signature] = token.split('.');
    await expectRefused(`Bearer ${header}.${payload}.${signature}`);
  });

  it('rejects a token of 1, 2, 4 or 5 segments', async () => {
    const [header, payload, signature] = token.split('.');
    for (const value of [
      header,
      `${header}.${payload}`,
      `${header}.${payload}.`,
      `${token}.${signature}`,
      `${token}.`,
      `${header}.${payload}.${signature}.${payload}.${signature}`,
      `${header}..${payload}..`,
      '..',
      '.',
    ]) {
      await expectRefused(`Bearer ${value}`);
    }
  });

  it('rejects an empty bearer and a bearer of two tokens', async () => {
    for (const authorization of ['Bearer', 'Bearer ', 'Bearer    ', `Bearer ${token} ${token}`]) {
      const response = await withAuthorization('/auth/me', authorization);
      expect(response.status).toBe(401);
      expect(response.headers['www-authenticate']).toMatch(/^Bearer\b/);
    }
    await expectRefused(`Bearer ${token} ${token}`);
    await expectRefused(`Bearer ${token},${token}`);
  });

  it('rejects other schemes, and a token without a scheme', async () => {
    await expectRefused(`Basic ${Buffer.from('user@example.com:password').toString('base64')}`);
    await expectRefused(`Basic ${token}`);
    await expectRefused(`Token ${token}`);
    await expectRefused(`JWT ${token}`);
    await expectRefused(`DPoP ${token}`);
    await expectRefused(token);
    await expectRefused(`Bearer: ${token}`);
  });

  it('ignores a token in the query string (never read from there)', async () => {
    for (const path of ['/auth/me', '/demo/private']) {
      const response = await t.http().get(`${path}?access_token=${encodeURIComponent(token)}`);
      expect(response.status).toBe(401);
      // As if no credentials were sent at all.
      expect(response.headers['www-authenticate']).toBe('Bearer');
    }
  });

  it('answers an Authorization header too large for the server without a 5xx', async () => {
    const response = await getWithBearer(t, '/auth/me', 'a'.repeat(20_000)).catch(
      (error: { status?: number }) => ({ status: error.status ?? 0 }),
    );
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
  });
});

describe('AUTH_JWT_PRIVATE_KEY', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();

  it('signs with the configured key: the kid is its RFC 7638 thumbprint on every start', async () => {
    const kids: string[] = [];
    // Two starts on two databases; the second passes the PEM on one line with \n escapes.
    for (const value of [pem, pem.replace(/\n/g, '\\n')]) {
      const t = await createTestApp({ AUTH_JWT_PRIVATE_KEY: value });
      try {
        const { tokens } = await signUp(t);
        const { header } = decodeJwt(tokens.access_token);
        expect(header).toEqual({ alg: 'ES256', typ: 'at+jwt', kid: expect.any(String) });
        expect(signatureVerifies(tokens.access_token, 'ES256', publicKey)).toBe(true);
        await getWithBearer(t, '/auth/me', tokens.access_token).expect(200);
        // The configured key is used as it is: no key of its own is generated or stored.
        expect(await t.dataSource.query('SELECT kid FROM auth_signing_keys')).toEqual([]);
        kids.push(header.kid);
      } finally {
        await t.close();
      }
    }
    expect(kids[1]).toBe(kids[0]);
    expect(kids[0]).toBe(rfc7638Thumbprint(publicKey));
  });

  describe('on a running app', () => {
    let t: TestApp;
    let user: Awaited<ReturnType<typeof signUp>>;
    let kid: string;

    beforeAll(async () => {
      t = await createTestApp({ AUTH_JWT_PRIVATE_KEY: pem });
      user = await signUp(t);
      kid = decodeJwt(user.tokens.access_token).header.kid;
    });
    afterAll(() => t.close());

    it('accepts a token the test signs with the configured key (raw r||s ES256)', async () => {
      const { payload } = decodeJwt(user.tokens.access_token);
      const own = signJws({ alg: 'ES256', typ: 'at+jwt', kid }, payload, 'ES256', privateKey);
      const response = await getWithBearer(t, '/auth/me', own);
      expect(response.status).toBe(200);
      expect(response.body.id).toBe(user.id);
      // The same signature DER-encoded is not a JWS signature.
      const der = cryptoSign(
        'sha256',
        Buffer.from(own.split('.').slice(0, 2).join('.')),
        privateKey,
      );
      const [header, body] = own.split('.');
      expectInvalidToken(
        await getWithBearer(t, '/auth/me', `${header}.${body}.${der.toString('base64url')}`),
      );
    });

    it('rejects an HS256 token keyed with the public key (algorithm confusion)', async () => {
      const { payload } = decodeJwt(user.tokens.access_token);
      for (const secret of [
        publicKey.export({ format: 'pem', type: 'spki' }),
        publicKey.export({ format: 'der', type: 'spki' }),
        pem,
      ]) {
        const forged = signJws({ alg: 'HS256', typ: 'at+jwt', kid }, payload, 'HS256', secret);
        expectInvalidToken(await getWithBearer(t, '/auth/me', forged));
      }
    });
  });
});

describe('bad configuration', () => {
  it.each([
    ['AUTH_JWT_ALG=HS512', ['AUTH_JWT_ALG'], { AUTH_JWT_ALG: 'HS512' }],
    ['HS256 without a secret', ['AUTH_JWT_SECRET'], { AUTH_JWT_ALG: 'HS256' }],
    [
      'HS256 with a 31-byte secret',
      ['AUTH_JWT_SECRET'],
      { AUTH_JWT_ALG: 'HS256', AUTH_JWT_SECRET: 'x'.repeat(31) },
    ],
    ['PORT=abc', ['PORT'], { PORT: 'abc' }],
    ['AUTH_ACCESS_TTL=0', ['AUTH_ACCESS_TTL'], { AUTH_ACCESS_TTL: '0' }],
    [
      'only AUTH_ADMIN_EMAIL',
      ['AUTH_ADMIN_EMAIL', 'AUTH_ADMIN_PASSWORD'],
      { AUTH_ADMIN_EMAIL: 'admin@example.com' },
    ],
  ])('AppModule.forRoot throws a ConfigurationError for %s', (_case, variables, env) => {
    let error: unknown;
    try {
      AppModule.forRoot(env);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigurationError);
    for (const variable of variables) expect((error as Error).message).toContain(variable);
  });

  it('accepts an HS256 secret of exactly 32 bytes', () => {
    expect(() =>
      AppModule.forRoot({ AUTH_JWT_ALG: 'HS256', AUTH_JWT_SECRET: 'x'.repeat(32) }),
    ).not.toThrow();
  });

  describe('an unusable AUTH_JWT_PRIVATE_KEY', () => {
    it('is refused at configuration time, naming the variable, when the key does not fit the algorithm', () => {
      const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
      const pem = rsa.export({ format: 'pem', type: 'pkcs8' }).toString();
      expect(() => AppModule.forRoot({ AUTH_JWT_PRIVATE_KEY: pem })).toThrow(ConfigurationError);
      expect(() => AppModule.forRoot({ AUTH_JWT_PRIVATE_KEY: pem })).toThrow(
        /AUTH_JWT_PRIVATE_KEY/,
      );
    });

    it('is refused at configuration time, naming the variable, when the key is not a PEM', () => {
      expect(() => AppModule.forRoot({ AUTH_JWT_PRIVATE_KEY: 'not a pem' })).toThrow(
        ConfigurationError,
      );
      expect(() => AppModule.forRoot({ AUTH_JWT_PRIVATE_KEY: 'not a pem' })).toThrow(
        /AUTH_JWT_PRIVATE_KEY/,
      );
    });
  });

  describe('node dist/src/main.js', () => {
    beforeAll(() => ensureBuilt(), 180_000);

    it.each([
      ['PORT', { PORT: 'abc' }],
      ['AUTH_JWT_SECRET', { AUTH_JWT_ALG: 'HS256' }],
    ])('exits 1 with a message naming %s on stderr', async (variable, env) => {
      const result = await promisify(execFile)(process.execPath, [MAIN], {
        cwd: ROOT,
        env: { PATH: process.env.PATH, ...env },
        timeout: 20_000,
      }).then(
        () => ({ code: 0, stderr: '' }),
        (error: { code: number; stderr: string }) => error,
      );
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(variable);
      expect(result.stderr).toMatch(/configuration/i);
      // A clear message, not a stack trace.
      expect(result.stderr).not.toMatch(/\n\s+at /);
    });
  });
});
