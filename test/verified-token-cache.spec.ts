import { generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { sign, verify as jwtVerify } from 'jsonwebtoken';
import type { ResolvedAuthOptions } from '../src/auth/interfaces/auth-module-options.interface';
import type { SigningKeysService } from '../src/auth/keys/signing-keys.service';
import type { RevokedSessions } from '../src/auth/sessions/revoked-sessions';
import {
  AccessTokenVerifier,
  InvalidAccessTokenError,
} from '../src/auth/tokens/access-token.verifier';
import { VerifiedTokenCache } from '../src/auth/tokens/verified-token-cache';

// The real jsonwebtoken, with `verify` observed: a cache hit must not call it.
jest.mock('jsonwebtoken', () => {
  const actual = jest.requireActual('jsonwebtoken');
  return { ...actual, verify: jest.fn(actual.verify) };
});

const NOW_MS = Date.UTC(2026, 0, 1, 12);

describe('VerifiedTokenCache', () => {
  function setup(maxEntries = 3) {
    const clock = { ms: NOW_MS };
    return { clock, cache: new VerifiedTokenCache<string>(maxEntries, () => clock.ms) };
  }

  it('returns an entry until its expiry, never at or after it', () => {
    const { clock, cache } = setup();
    cache.set('token', 'principal', NOW_MS + 1000);
    clock.ms = NOW_MS + 999;
    expect(cache.get('token')).toBe('principal');
    clock.ms = NOW_MS + 1000;
    expect(cache.get('token')).toBeUndefined();
    clock.ms = NOW_MS; // an expired entry is gone, not hidden
    expect(cache.get('token')).toBeUndefined();
  });

  it('does not store what has already expired', () => {
    const { cache } = setup();
    cache.set('token', 'principal', NOW_MS);
    expect(cache.size).toBe(0);
  });

  it('holds at most maxEntries, dropping the least recently used', () => {
    const { cache } = setup(3);
    for (const token of ['a', 'b', 'c']) cache.set(token, token, NOW_MS + 60_000);
    cache.get('a'); // now b is the least recently used
    cache.set('d', 'd', NOW_MS + 60_000);
    expect(cache.size).toBe(3);
    expect(cache.get('b')).toBeUndefined();
    expect(['a', 'c', 'd'].map((token) => cache.get(token))).toEqual(['a', 'c', 'd']);
  });

  it('stays bounded under many distinct tokens', () => {
    const { cache } = setup(100);
    for (let i = 0; i < 10_000; i++) cache.set(`token-${i}`, 'principal', NOW_MS + 60_000);
    expect(cache.size).toBe(100);
  });
});

describe('AccessTokenVerifier with its cache of verified tokens', () => {
  const ISSUER = 'https://auth.example.test';
  const KID = 'test-key';

  afterEach(() => jest.useRealTimers());

  function setup({ clockTolerance = 0 } = {}) {
    jest.useFakeTimers({ now: NOW_MS });
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const key = {
      kid: KID,
      alg: 'ES256' as const,
      signingKey: privateKey,
      verificationKey: publicKey,
    };
    const state = { keyRetired: false, revoked: new Set<string>() };
    const keys = {
      findVerificationKey: (kid: string) => (kid === KID && !state.keyRetired ? key : undefined),
    };
    const revokedSessions = { has: (sessionId: string) => state.revoked.has(sessionId) };
    const options = { issuer: ISSUER, audience: 'api', clockTolerance } as ResolvedAuthOptions;
    const verifier = new AccessTokenVerifier(
      options,
      keys as unknown as SigningKeysService,
      revokedSessions as unknown as RevokedSessions,
    );
    const sessionId = randomUUID();
    const token = issue(privateKey, sessionId, 60);
    (jwtVerify as unknown as jest.Mock).mockClear();
    return { verifier, state, sessionId, token };
  }

  function issue(privateKey: KeyObject, sessionId: string, ttlSeconds: number): string {
    return sign({ sid: sessionId, roles: ['reader'] }, privateKey, {
      algorithm: 'ES256',
      header: { alg: 'ES256', typ: 'at+jwt', kid: KID },
      issuer: ISSUER,
      audience: 'api',
      subject: randomUUID(),
      jwtid: randomUUID(),
      expiresIn: ttlSeconds,
    });
  }

  it('checks the signature of a token once, then answers from the cache', () => {
    const { verifier, token, sessionId } = setup();
    expect(verifier.verify(token).sessionId).toBe(sessionId);
    expect(verifier.verify(token).sessionId).toBe(sessionId);
    expect(jwtVerify).toHaveBeenCalledTimes(1);
  });

  it('refuses a cached token once it has expired', () => {
    const { verifier, token } = setup();
    verifier.verify(token);
    jest.setSystemTime(NOW_MS + 59_000);
    expect(() => verifier.verify(token)).not.toThrow();
    jest.setSystemTime(NOW_MS + 60_000);
    expect(() => verifier.verify(token)).toThrow(InvalidAccessTokenError);
  });

  it('accepts a cached token past exp exactly as long as a fresh verification would', () => {
    const { verifier, token } = setup({ clockTolerance: 5 });
    verifier.verify(token);
    jest.setSystemTime(NOW_MS + 62_000); // within the tolerance: verified again, accepted
    expect(() => verifier.verify(token)).not.toThrow();
    jest.setSystemTime(NOW_MS + 65_000);
    expect(() => verifier.verify(token)).toThrow(InvalidAccessTokenError);
  });

  it('refuses a cached token as soon as its session is revoked', () => {
    const { verifier, token, state, sessionId } = setup();
    verifier.verify(token);
    state.revoked.add(sessionId);
    expect(() => verifier.verify(token)).toThrow('session ended');
    expect(jwtVerify).toHaveBeenCalledTimes(1);
  });

  it('refuses a cached token as soon as its key no longer verifies', () => {
    const { verifier, token, state } = setup();
    verifier.verify(token);
    state.keyRetired = true;
    expect(() => verifier.verify(token)).toThrow(InvalidAccessTokenError);
  });

  it('caches nothing for a token that fails verification', () => {
    const { verifier, token } = setup();
    const tampered = token.slice(0, -4) + (token.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    expect(() => verifier.verify(tampered)).toThrow(InvalidAccessTokenError);
    expect(() => verifier.verify(tampered)).toThrow(InvalidAccessTokenError);
    expect(jwtVerify).toHaveBeenCalledTimes(2);
  });

  it('hands out copies: a caller changing its principal does not change the cached one', () => {
    const { verifier, token } = setup();
    verifier.verify(token).roles.push('admin');
    expect(verifier.verify(token).roles).toEqual(['reader']);
  });
});
