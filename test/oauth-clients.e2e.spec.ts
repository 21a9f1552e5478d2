// Interoperability: clients nobody here wrote, talking to the service over real HTTP.
// openid-client stands in for an OAuth 2.0 client app, jose (through the resource-server guide's
// example) and PyJWT (through its Python example) for independent resource servers.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as client from 'openid-client';
import { createAccessTokenVerifier } from '../examples/resource-server/verify-access-token';
import { rotateSigningKey, SigningKeyRepository } from '../src/auth/keys';
import { SigningKeysService } from '../src/auth/keys/signing-keys.service';
import {
  decodeJwt,
  jwksKids,
  me,
  PASSWORD,
  register,
  signUp,
  withPayload,
} from './support/auth-client';
import { type CommandResult, runCommand } from './support/command';
import { createListeningTestApp, type ListeningApp } from './support/listening-app';
import { sleep } from './support/time';

type Alg = 'ES256' | 'RS256';

const ROOT = join(__dirname, '..');
const PYTHON = '/usr/bin/python3';
const PYTHON_EXAMPLE = 'examples/resource-server/verify_access_token.py';

/** The OAuth error a rejected openid-client call surfaced. */
async function oauthError(promise: Promise<unknown>): Promise<client.ResponseBodyError> {
  const error = await promise.then(
    () => {
      throw new Error('expected the request to fail');
    },
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(client.ResponseBodyError);
  return error as client.ResponseBodyError;
}

/** The jose error a verification rejected with. */
async function rejection(promise: Promise<unknown>): Promise<{ code: string; claim?: string }> {
  const error = await promise.then(
    () => {
      throw new Error('expected the token to be rejected');
    },
    (caught: unknown) => caught,
  );
  expect(error).toHaveProperty('code');
  return error as { code: string; claim?: string };
}

let pythonJwt: boolean | undefined;

/** Runs the Python example: ISSUER AUDIENCE TOKEN -> the claims as JSON, or exit 1. */
async function verifyWithPython(
  issuer: string,
  audience: string,
  token: string,
): Promise<CommandResult> {
  pythonJwt ??= await new Promise<boolean>((resolve) =>
    execFile(PYTHON, ['-c', 'import jwt'], (error) => resolve(!error)),
  );
  if (!pythonJwt) {
    throw new Error(
      `${PYTHON} cannot import jwt: install PyJWT (Debian/Ubuntu: apt-get install python3-jwt python3-cryptography) to run the Python resource-server example.`,
    );
  }
  return runCommand(PYTHON, [PYTHON_EXAMPLE, issuer, audience, token], {
    cwd: ROOT,
    timeout: 60_000,
  });
}

describe.each<{ alg: Alg; env: Record<string, string> }>([
  { alg: 'ES256', env: {} },
  { alg: 'RS256', env: { AUTH_JWT_ALG: 'RS256' } },
])('$alg: clients nobody here wrote', ({ alg, env }) => {
  let t: ListeningApp;
  let config: client.Configuration;

  beforeAll(async () => {
    t = await createListeningTestApp(env);
    config = await client.discovery(
      new URL(t.issuer),
      'interop-test-client',
      undefined,
      client.None(),
      {
        algorithm: 'oauth2',
        execute: [client.allowInsecureRequests],
      },
    );
  });
  afterAll(() => t?.close());

  describe('openid-client', () => {
    it('discovers the server through RFC 8414 metadata', () => {
      expect(config.serverMetadata()).toMatchObject({
        issuer: t.issuer,
        token_endpoint: `${t.issuer}/oauth/token`,
        revocation_endpoint: `${t.issuer}/oauth/revoke`,
        jwks_uri: `${t.issuer}/.well-known/jwks.json`,
      });
    });

    it('logs in with the password grant, refreshes and revokes', async () => {
      const { id, email } = await register(t);
      const tokens = await client.genericGrantRequest(config, 'password', {
        username: email,
        password: PASSWORD,
      });
      expect(tokens.token_type).toBe('bearer'); // openid-client lowercases it
      expect(tokens.expires_in).toBe(900);
      expect(tokens.refresh_token).toEqual(expect.any(String));
      const { header, payload } = decodeJwt(tokens.access_token);
      expect(header).toMatchObject({ alg, typ: 'at+jwt' });
      expect(payload.sub).toBe(id);
      await me(t, tokens.access_token).expect(200);

      const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!);
      expect(refreshed.refresh_token).toEqual(expect.any(String));
      expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
      expect(refreshed.session_id).toBe(tokens.session_id);
      await me(t, refreshed.access_token).expect(200);

      await client.tokenRevocation(config, refreshed.refresh_token!);
      const error = await oauthError(client.refreshTokenGrant(config, refreshed.refresh_token!));
      expect({ status: error.status, error: error.error }).toEqual({
        status: 400,
        error: 'invalid_grant',
      });
      await me(t, refreshed.access_token).expect(401);
    });

    it('revokes an access token, with its hint', async () => {
      const { email } = await register(t);
      const tokens = await client.genericGrantRequest(config, 'password', {
        username: email,
        password: PASSWORD,
      });
      await client.tokenRevocation(config, tokens.access_token, {
        token_type_hint: 'access_token',
      });
      await me(t, tokens.access_token).expect(401);
      const error = await oauthError(client.refreshTokenGrant(config, tokens.refresh_token!));
      expect(error.error).toBe('invalid_grant');
    });

    it('revokes an unknown token without an error (RFC 7009 §2.2)', async () => {
      await expect(client.tokenRevocation(config, 'A'.repeat(43))).resolves.toBeUndefined();
      await expect(client.tokenRevocation(config, 'not-a-token')).resolves.toBeUndefined();
    });

    it('surfaces the RFC 6749 error codes', async () => {
      const { email } = await register(t);
      const wrongPassword = await oauthError(
        client.genericGrantRequest(config, 'password', {
          username: email,
          password: 'wrong password 1',
        }),
      );
      expect({ status: wrongPassword.status, error: wrongPassword.error }).toEqual({
        status: 400,
        error: 'invalid_grant',
      });
      expect(wrongPassword.error_description).toEqual(expect.any(String));

      const unknownUser = await oauthError(
        client.genericGrantRequest(config, 'password', {
          username: `nobody.${Date.now()}@example.com`,
          password: PASSWORD,
        }),
      );
      expect(unknownUser.error).toBe('invalid_grant');

      const badGrant = await oauthError(
        client.genericGrantRequest(config, 'client_credentials', {}),
      );
      expect({ status: badGrant.status, error: badGrant.error }).toEqual({
        status: 400,
        error: 'unsupported_grant_type',
      });

      const missing = await oauthError(
        client.genericGrantRequest(config, 'password', { username: email }),
      );
      expect(missing.error).toBe('invalid_request');

      const badRefresh = await oauthError(client.refreshTokenGrant(config, 'A'.repeat(43)));
      expect(badRefresh.error).toBe('invalid_grant');
    });
  });

  describe('jose, through examples/resource-server/verify-access-token.ts', () => {
    let user: Awaited<ReturnType<typeof signUp>>;

    beforeAll(async () => {
      user = await signUp(t);
    });

    it('verifies an access token from the JWKS', async () => {
      const verify = createAccessTokenVerifier(t.issuer, 'api');
      const claims = await verify(user.tokens.access_token);
      expect(claims).toMatchObject({
        iss: t.issuer,
        aud: 'api',
        sub: user.id,
        sid: user.tokens.session_id,
        roles: [],
      });
    });

    it('rejects a token for another audience', async () => {
      const verify = createAccessTokenVerifier(t.issuer, 'billing-api');
      expect(await rejection(verify(user.tokens.access_token))).toMatchObject({
        code: 'ERR_JWT_CLAIM_VALIDATION_FAILED',
        claim: 'aud',
      });
    });

    it('rejects a token from another issuer', async () => {
      // Same origin, so the same JWKS and a valid signature: only `iss` differs.
      const verify = createAccessTokenVerifier(`${t.issuer}/other-tenant`, 'api');
      expect(await rejection(verify(user.tokens.access_token))).toMatchObject({
        code: 'ERR_JWT_CLAIM_VALIDATION_FAILED',
        claim: 'iss',
      });
    });

    it('rejects a tampered token', async () => {
      const verify = createAccessTokenVerifier(t.issuer, 'api');
      const tampered = withPayload(user.tokens.access_token, { roles: ['admin'] });
      expect(await rejection(verify(tampered))).toMatchObject({
        code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED',
      });
      const resigned = withPayload(user.tokens.access_token, { sub: 'someone-else' });
      expect((await rejection(verify(resigned))).code).toBe(
        'ERR_JWS_SIGNATURE_VERIFICATION_FAILED',
      );
    });

    describe('with an app whose tokens live 1 second', () => {
      let short: ListeningApp;

      beforeAll(async () => {
        short = await createListeningTestApp({ ...env, AUTH_ACCESS_TTL: '1' });
      });
      afterAll(() => short?.close());

      it('rejects the token once expired (beyond the example’s 5 s tolerance)', async () => {
        const { tokens } = await signUp(short);
        const { payload } = decodeJwt(tokens.access_token);
        expect(payload.exp - payload.iat).toBe(1);
        // jose refuses once exp <= now - tolerance; wait a second more than that.
        await sleep(Math.max(0, (payload.exp + 5 + 1) * 1000 - Date.now()));
        const verify = createAccessTokenVerifier(short.issuer, 'api');
        expect((await rejection(verify(tokens.access_token))).code).toBe('ERR_JWT_EXPIRED');
        await me(short, tokens.access_token).expect(401);
      }, 60_000);

      it('rejects a token of another server (its key is not in our JWKS)', async () => {
        const { tokens } = await signUp(short);
        const verify = createAccessTokenVerifier(t.issuer, 'api');
        // The key is looked up (and missed) before any claim is checked.
        expect((await rejection(verify(tokens.access_token))).code).toBe(
          'ERR_JWKS_NO_MATCHING_KEY',
        );
      });
    });
  });

  describe('PyJWT, through examples/resource-server/verify_access_token.py', () => {
    let user: Awaited<ReturnType<typeof signUp>>;

    beforeAll(async () => {
      user = await signUp(t);
    });

    it('prints the claims of a good token and exits 0', async () => {
      const result = await verifyWithPython(t.issuer, 'api', user.tokens.access_token);
      expect(result).toMatchObject({ code: 0 });
      expect(JSON.parse(result.stdout)).toMatchObject({
        iss: t.issuer,
        aud: 'api',
        sub: user.id,
        sid: user.tokens.session_id,
        roles: [],
      });
    }, 60_000);

    it('exits 1 for a tampered token', async () => {
      const tampered = withPayload(user.tokens.access_token, { roles: ['admin'] });
      const result = await verifyWithPython(t.issuer, 'api', tampered);
      expect(result).toMatchObject({ code: 1, stdout: '' });
      expect(result.stderr).toMatch(/^rejected: /);
    }, 60_000);

    it('exits 1 for another audience', async () => {
      const result = await verifyWithPython(t.issuer, 'billing-api', user.tokens.access_token);
      expect(result).toMatchObject({ code: 1, stdout: '' });
      expect(result.stderr).toMatch(/^rejected: .*audience/i);
    }, 60_000);
  });

  // Last: it changes the key the app signs with.
  describe('across a key rotation', () => {
    let before: Awaited<ReturnType<typeof signUp>>;
    let oldKid: string;
    let newKid: string;
    let after: Awaited<ReturnType<typeof client.genericGrantRequest>>;
    /** Created, and its key set fetched, before the rotation. */
    let verifyEarly: ReturnType<typeof createAccessTokenVerifier>;
    /** Plain jose, without the 30 s cooldown between refetches, also fetched before. */
    let joseNoCooldown: ReturnType<typeof createRemoteJWKSet>;

    beforeAll(async () => {
      before = await signUp(t);
      oldKid = decodeJwt(before.tokens.access_token).header.kid;
      verifyEarly = createAccessTokenVerifier(t.issuer, 'api');
      await verifyEarly(before.tokens.access_token);
      joseNoCooldown = createRemoteJWKSet(new URL(`${t.issuer}/.well-known/jwks.json`), {
        cooldownDuration: 0,
      });
      await jwtVerify(before.tokens.access_token, joseNoCooldown, { issuer: t.issuer });

      const result = await rotateSigningKey(t.app.get(SigningKeyRepository), alg, {
        activateInSeconds: 0,
        tokenLifetimeMs: (900 + 5) * 1000,
      });
      await t.app.get(SigningKeysService).reload();
      expect(result.retired).toEqual([]);
      newKid = result.kid;

      const { email } = await register(t);
      after = await client.genericGrantRequest(config, 'password', {
        username: email,
        password: PASSWORD,
      });
    });

    it('signs new tokens with the new key; the JWKS lists both keys', async () => {
      expect(newKid).not.toBe(oldKid);
      expect(decodeJwt(after.access_token).header).toMatchObject({ alg, kid: newKid });
      expect(await jwksKids(t)).toEqual([oldKid, newKid].sort());
    });

    it('keeps accepting the tokens signed before, on /auth/me and with jose', async () => {
      await me(t, before.tokens.access_token).expect(200);
      await me(t, after.access_token).expect(200);
      await expect(verifyEarly(before.tokens.access_token)).resolves.toMatchObject({
        sub: before.id,
      });
      const verifyLate = createAccessTokenVerifier(t.issuer, 'api');
      await expect(verifyLate(before.tokens.access_token)).resolves.toMatchObject({
        sub: before.id,
      });
      await expect(verifyLate(after.access_token)).resolves.toMatchObject({
        sid: after.session_id,
      });
    });

    // The example's verifier, fetched before the rotation, does not refetch the key set for an
    // unknown kid within jose's 30 s cooldown (a rotation activated at once; the default
    // --activate-in 30 leaves that time). The refetch itself is checked with plain jose.
    it('jose refetches the key set on the new kid', async () => {
      const { payload, protectedHeader } = await jwtVerify(after.access_token, joseNoCooldown, {
        issuer: t.issuer,
        audience: 'api',
        typ: 'at+jwt',
        algorithms: [alg],
      });
      expect(protectedHeader.kid).toBe(newKid);
      expect(payload.sid).toBe(after.session_id);
    });

    it('refreshes a session from before the rotation into a token of the new key', async () => {
      const refreshed = await client.refreshTokenGrant(config, before.tokens.refresh_token);
      expect(decodeJwt(refreshed.access_token).header.kid).toBe(newKid);
      await expect(verifyEarly(before.tokens.access_token)).resolves.toBeDefined();
    });

    it('the Python example verifies tokens of both keys', async () => {
      for (const token of [before.tokens.access_token, after.access_token]) {
        const result = await verifyWithPython(t.issuer, 'api', token);
        expect(result).toMatchObject({ code: 0 });
        expect(JSON.parse(result.stdout).sub).toBe(decodeJwt(token).payload.sub);
      }
    }, 60_000);
  });
});
