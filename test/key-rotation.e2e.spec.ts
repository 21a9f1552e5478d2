import { join } from 'node:path';
import {
  rotateSigningKey,
  type RotationResult,
  SigningKeyRepository,
  revokeSigningKey,
} from '../src/auth/keys';
import { SigningKeysService } from '../src/auth/keys/signing-keys.service';
import { decodeJwt, jwks, jwksKids, login, me, refresh, signUp } from './support/auth-client';
import { type CommandResult, runCommand } from './support/command';
import { ensureBuilt, ROOT } from './support/service-process';
import { createTestApp, startApp, type TestApp } from './support/test-app';
import {
  createPgliteDatabase,
  createTestDatabase,
  type TestDatabase,
  usingPostgres,
} from './support/test-database';
import { msUntil, sleep } from './support/time';

type Alg = 'ES256' | 'RS256';

const KEYS_CLI = join(ROOT, 'dist/src/cli/keys.js');
/** 40 characters: comfortably above the 32-byte minimum. */
const HS256_SECRET = 'hs256-test-secret-0123456789-abcdefghijk';
/** The default access-token lifetime plus clock tolerance (900 + 5 s). */
const DEFAULT_TOKEN_LIFETIME_MS = 905_000;
/** How often the tests that wait for another instance look again. */
const POLL_MS = 25;

/** The kid the app signs new tokens with now. */
async function signingKid(t: TestApp, email: string): Promise<string> {
  return decodeJwt((await login(t, email)).access_token).header.kid;
}

/** Rotates through the app's own repository, then reloads its keys as a NOTIFY would. */
async function rotate(
  t: TestApp,
  alg: Alg,
  activateInSeconds: number,
  tokenLifetimeMs = DEFAULT_TOKEN_LIFETIME_MS,
): Promise<RotationResult> {
  const result = await rotateSigningKey(t.app.get(SigningKeyRepository), alg, {
    activateInSeconds,
    tokenLifetimeMs,
  });
  await t.app.get(SigningKeysService).reload();
  return result;
}

/** Runs `node dist/src/cli/keys.js ARGS` with only `env` (and PATH) as its environment. */
function keysCli(args: string[], env: Record<string, string>): Promise<CommandResult> {
  return runCommand(process.execPath, [KEYS_CLI, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, ...env },
    timeout: 120_000,
  });
}

/**
 * For the tests of one describe: an app on a database of its own and a user signed up on it
 * (`beforeAll`), then an ES256 key rotated in through the app's repository.
 */
function rotatedOnce(activateInSeconds: number) {
  const rotated = {} as {
    t: TestApp;
    user: Awaited<ReturnType<typeof signUp>>;
    oldKid: string;
    result: RotationResult;
  };
  beforeAll(async () => {
    rotated.t = await createTestApp();
    rotated.user = await signUp(rotated.t);
    rotated.oldKid = decodeJwt(rotated.user.tokens.access_token).header.kid;
    rotated.result = await rotate(rotated.t, 'ES256', activateInSeconds);
  });
  afterAll(() => rotated.t.close());
  return rotated;
}

describe('a key announced ahead (activateInSeconds: 30)', () => {
  const rotated = rotatedOnce(30);

  it('is published in the JWKS at once', async () => {
    const { t, oldKid, result } = rotated;
    expect(result.kid).not.toBe(oldKid);
    expect(result.retired).toEqual([]);
    expect(result.activatesAt.getTime() - Date.now()).toBeGreaterThan(0);
    expect(await jwksKids(t)).toEqual([oldKid, result.kid].sort());
  });

  it('does not sign yet: new tokens keep the old kid, and verify', async () => {
    const { t, user, oldKid } = rotated;
    const tokens = await login(t, user.email);
    expect(decodeJwt(tokens.access_token).header.kid).toBe(oldKid);
    await me(t, tokens.access_token).expect(200);
    await me(t, user.tokens.access_token).expect(200);
  });
});

describe('a key active at once (activateInSeconds: 0)', () => {
  const rotated = rotatedOnce(0);

  it('signs new tokens; the JWKS lists it beside the old key', async () => {
    const { t, user, oldKid, result } = rotated;
    expect(result.retired).toEqual([]);
    const tokens = await login(t, user.email);
    expect(decodeJwt(tokens.access_token).header).toMatchObject({ alg: 'ES256', kid: result.kid });
    await me(t, tokens.access_token).expect(200);
    expect(await jwksKids(t)).toEqual([oldKid, result.kid].sort());
  });

  it('lets the old key keep verifying the tokens it signed, and their sessions refresh', async () => {
    const { t, user, result } = rotated;
    await me(t, user.tokens.access_token).expect(200);
    const refreshed = await refresh(t, user.tokens.refresh_token).expect(200);
    expect(decodeJwt(refreshed.body.access_token).header.kid).toBe(result.kid);
  });

  it('a key announced ahead starts signing at its time by itself, without a reload', async () => {
    const { t, user, oldKid, result } = rotated;
    const ahead = await rotate(t, 'ES256', 2);
    expect(await jwksKids(t)).toEqual([oldKid, result.kid, ahead.kid].sort());
    await sleep(Math.max(0, ahead.activatesAt.getTime() - Date.now()) + 500);
    expect(await signingKid(t, user.email)).toBe(ahead.kid);
  });
});

describe('retirement (AUTH_ACCESS_TTL=2, AUTH_CLOCK_TOLERANCE=0)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ AUTH_ACCESS_TTL: '2', AUTH_CLOCK_TOLERANCE: '0' });
  });
  afterAll(() => t.close());

  it('retires a replaced key once its tokens have expired; it leaves the JWKS', async () => {
    const { email, tokens } = await signUp(t);
    const firstKid = decodeJwt(tokens.access_token).header.kid;
    const first = await rotate(t, 'ES256', 0, 2000);
    expect(first.retired).toEqual([]);
    expect(await signingKid(t, email)).toBe(first.kid);

    // One token lifetime after the first key was replaced, nothing it signed is valid.
    await sleep(2500);
    const second = await rotate(t, 'ES256', 0, 2000);
    expect(second.retired).toEqual([firstKid]);
    expect(await jwksKids(t)).toEqual([first.kid, second.kid].sort());
    expect(await signingKid(t, email)).toBe(second.kid);

    const rows: { kid: string; retired: boolean }[] = await t.dataSource.query(
      'SELECT kid, retired_at IS NOT NULL AS retired FROM auth_signing_keys ORDER BY activates_at',
    );
    expect(rows).toEqual([
      { kid: firstKid, retired: true },
      { kid: first.kid, retired: false },
      { kid: second.kid, retired: false },
    ]);
  });
});

describe('HS256 and RS256', () => {
  it('HS256: nothing is ever published, even on a database holding ES256 keys', async () => {
    const database = await createTestDatabase();
    try {
      const es = await startApp(database);
      try {
        expect(await jwks(es)).toHaveLength(1);
      } finally {
        await es.close();
      }
      const hs = await startApp(database, { AUTH_JWT_ALG: 'HS256', AUTH_JWT_SECRET: HS256_SECRET });
      try {
        const { tokens } = await signUp(hs);
        expect(decodeJwt(tokens.access_token).header.alg).toBe('HS256');
        expect((await hs.http().get('/.well-known/jwks.json').expect(200)).body).toEqual({
          keys: [],
        });
        await hs.app.get(SigningKeysService).reload();
        expect(await jwks(hs)).toEqual([]);
      } finally {
        await hs.close();
      }
    } finally {
      await database.drop();
    }
  });

  it('RS256: rotation works the same way', async () => {
    const t = await createTestApp({ AUTH_JWT_ALG: 'RS256' });
    try {
      const user = await signUp(t);
      const oldKid = decodeJwt(user.tokens.access_token).header.kid;
      const result = await rotate(t, 'RS256', 0);
      const tokens = await login(t, user.email);
      expect(decodeJwt(tokens.access_token).header).toMatchObject({
        alg: 'RS256',
        kid: result.kid,
      });
      const keys = await jwks(t);
      expect(keys.map((key) => key.kid).sort()).toEqual([oldKid, result.kid].sort());
      for (const key of keys) expect(key).toMatchObject({ kty: 'RSA', alg: 'RS256' });
      await me(t, user.tokens.access_token).expect(200);
      await me(t, tokens.access_token).expect(200);
    } finally {
      await t.close();
    }
  });
});

// Two instances on one PostgreSQL database, in one process: each has its own key cache and
// LISTEN connection, as separate processes would.
(usingPostgres ? describe : describe.skip)('two instances on one PostgreSQL database', () => {
  let database: TestDatabase;
  let a: TestApp;
  let b: TestApp;
  let user: Awaited<ReturnType<typeof signUp>>;
  let oldKid: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    a = await startApp(database);
    b = await startApp(database);
    user = await signUp(a);
    oldKid = decodeJwt(user.tokens.access_token).header.kid;
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await database.drop();
  });

  it('a rotation through A reaches B without a reload: B publishes and signs with the new key within 2 s', async () => {
    expect(await signingKid(b, user.email)).toBe(oldKid);
    // No reload: the NOTIFY the rotation sends is all B hears.
    const result = await rotateSigningKey(a.app.get(SigningKeyRepository), 'ES256', {
      activateInSeconds: 0,
      tokenLifetimeMs: DEFAULT_TOKEN_LIFETIME_MS,
    });
    const ms = await msUntil(async () => (await jwksKids(b)).includes(result.kid), 2000, POLL_MS);
    expect(ms).toBeLessThan(2000);
    expect(await jwksKids(b)).toEqual([oldKid, result.kid].sort());
    expect(await signingKid(b, user.email)).toBe(result.kid);

    // A heard it too; what A's new key signs verifies on B, and so do the old key's tokens.
    expect(
      await msUntil(async () => (await jwksKids(a)).includes(result.kid), 2000, POLL_MS),
    ).toBeLessThan(2000);
    const fromA = await login(a, user.email);
    expect(decodeJwt(fromA.access_token).header.kid).toBe(result.kid);
    await me(b, fromA.access_token).expect(200);
    await me(b, user.tokens.access_token).expect(200);
  });

  it('a key announced ahead reaches B at once, and B keeps signing with the current key', async () => {
    const current = await signingKid(b, user.email);
    const ahead = await rotateSigningKey(a.app.get(SigningKeyRepository), 'ES256', {
      activateInSeconds: 3600,
      tokenLifetimeMs: DEFAULT_TOKEN_LIFETIME_MS,
    });
    expect(
      await msUntil(async () => (await jwksKids(b)).includes(ahead.kid), 2000, POLL_MS),
    ).toBeLessThan(2000);
    expect(await signingKid(b, user.email)).toBe(current);
  });

  it('a key retired through A is refused on B within 1 s and leaves its JWKS', async () => {
    // The primitive behind retiring a key at once (a compromised key).
    await me(b, user.tokens.access_token).expect(200);
    expect(await a.app.get(SigningKeyRepository).retire([oldKid], new Date())).toBe(1);
    const ms = await msUntil(
      async () => (await me(b, user.tokens.access_token)).status === 401,
      2000,
      POLL_MS,
    );
    expect(ms).toBeLessThan(1000);
    expect(await jwksKids(b)).not.toContain(oldKid);
  });
});

describe('the keys command (node dist/src/cli/keys.js)', () => {
  beforeAll(() => ensureBuilt(), 180_000);

  (usingPostgres ? it : it.skip)(
    'rotate --activate-in 0 on PostgreSQL: exits 0 and the printed kid is in the JWKS after reload',
    async () => {
      const t = await createTestApp();
      try {
        const user = await signUp(t);
        const oldKid = decodeJwt(user.tokens.access_token).header.kid;
        const env = { DATABASE_URL: t.database.url! };
        const result = await keysCli(['rotate', '--activate-in', '0'], env);
        expect(result).toMatchObject({ code: 0, stderr: '' });
        const kid = /new key (\S+) \(ES256\)/.exec(result.stdout)?.[1];
        expect(kid).toBeDefined();
        expect(kid).not.toBe(oldKid);

        await t.app.get(SigningKeysService).reload();
        expect(await jwksKids(t)).toEqual([oldKid, kid!].sort());
        expect(await signingKid(t, user.email)).toBe(kid);
        await me(t, user.tokens.access_token).expect(200);

        const list = await keysCli(['list'], env);
        expect(list.code).toBe(0);
        expect(list.stdout).toContain(kid!);
        expect(list.stdout).toContain(oldKid);
      } finally {
        await t.close();
      }
    },
    180_000,
  );

  it('rotate --service-stopped on a stopped embedded database: the restarted app signs with the new key', async () => {
    const database = createPgliteDatabase();
    try {
      const first = await startApp(database);
      let oldKid: string;
      let email: string;
      try {
        const user = await signUp(first);
        email = user.email;
        oldKid = decodeJwt(user.tokens.access_token).header.kid;
      } finally {
        await first.close();
      }
      const result = await keysCli(
        ['rotate', '--activate-in', '0', '--service-stopped'],
        database.env,
      );
      expect(result).toMatchObject({ code: 0, stderr: '' });
      const kid = /new key (\S+) \(ES256\)/.exec(result.stdout)?.[1];
      expect(kid).toBeDefined();

      const second = await startApp(database);
      try {
        expect(await jwksKids(second)).toEqual([oldKid, kid!].sort());
        expect(await signingKid(second, email)).toBe(kid);
      } finally {
        await second.close();
      }
    } finally {
      await database.drop();
    }
  }, 180_000);

  it('exits 1 on the embedded database without --service-stopped, saying to stop the service', async () => {
    const database = createPgliteDatabase();
    try {
      const result = await keysCli(['rotate', '--activate-in', '0'], database.env);
      expect(result.code).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(/stop/i);
      expect(result.stderr).toContain('--service-stopped');
      expect(result.stderr).not.toMatch(/\n\s+at /);
    } finally {
      await database.drop();
    }
  }, 120_000);

  it.each<[string, string[], Record<string, string>, RegExp]>([
    [
      'AUTH_JWT_ALG=HS256',
      ['rotate', '--activate-in', '0', '--service-stopped'],
      { AUTH_JWT_ALG: 'HS256', AUTH_JWT_SECRET: HS256_SECRET },
      /HS256/,
    ],
    ['--activate-in -5', ['rotate', '--activate-in=-5', '--service-stopped'], {}, /--activate-in/],
  ])(
    'exits 1 with %s, naming the reason',
    async (_case, args, env, reason) => {
      // A database of its own, in case the command got as far as opening one.
      const database = createPgliteDatabase();
      try {
        const result = await keysCli(args, { ...database.env, ...env });
        expect(result.code).toBe(1);
        expect(result.stdout).toBe('');
        expect(result.stderr).toMatch(reason);
        expect(result.stderr).not.toMatch(/\n\s+at /);
      } finally {
        await database.drop();
      }
    },
    120_000,
  );
});

(usingPostgres ? describe : describe.skip)(
  'emergency revocation (keys revoke), two instances',
  () => {
    let database: TestDatabase;
    let a: TestApp;
    let b: TestApp;

    beforeAll(async () => {
      database = await createTestDatabase();
      [a, b] = await Promise.all([startApp(database), startApp(database)]);
    });
    afterAll(async () => {
      await a?.close();
      await b?.close();
      await database.drop();
    });

    it('retires the signing key at once: B refuses its tokens within 1 s, sessions refresh onto a new key', async () => {
      const { tokens } = await signUp(a);
      const revokedKid = decodeJwt(tokens.access_token).header.kid as string;
      await me(b, tokens.access_token).expect(200);

      const result = await revokeSigningKey(a.app.get(SigningKeyRepository), 'ES256', revokedKid);
      expect(result.replacedBy).toBeDefined();

      const elapsed = await msUntil(
        async () => (await me(b, tokens.access_token)).status === 401,
        3000,
        POLL_MS,
      );
      expect(elapsed).toBeLessThan(1000);
      expect(await jwksKids(b)).not.toContain(revokedKid);
      expect(await jwksKids(b)).toContain(result.replacedBy);

      // The session survives: its refresh token is not tied to a signing key.
      const refreshed = await refresh(b, tokens.refresh_token).expect(200);
      expect(decodeJwt(refreshed.body.access_token).header.kid).toBe(result.replacedBy);
      await me(a, refreshed.body.access_token).expect(200);
    });

    it('refuses an unknown kid', async () => {
      await expect(
        revokeSigningKey(a.app.get(SigningKeyRepository), 'ES256', 'no-such-kid'),
      ).rejects.toThrow(/no-such-kid/);
    });
  },
);
