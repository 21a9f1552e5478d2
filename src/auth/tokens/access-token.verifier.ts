import { Injectable } from '@nestjs/common';
import type { KeyObject } from 'node:crypto';
import { verify, type JwtPayload, type VerifyOptions } from 'jsonwebtoken';
import { ACCESS_TOKEN_TYPE } from '../auth.constants';
import type { ResolvedAuthOptions } from '../interfaces/auth-module-options.interface';
import type { AuthPrincipal } from '../interfaces/auth-principal.interface';
import { SigningKeysService } from '../keys/signing-keys.service';
import { RevokedSessions } from '../sessions/revoked-sessions';
import { VerifiedTokenCache } from './verified-token-cache';
import { InjectAuthOptions } from '../decorators/inject-auth-options.decorator';

/** Any access token we refuse. The message is for logs; clients only see 401. */
export class InvalidAccessTokenError extends Error {
  readonly code = 'ERR_INVALID_ACCESS_TOKEN';
}

const MAX_TOKEN_LENGTH = 8192;
const MAX_HEADER_LENGTH = 1024;
/** About 10 MB at most: each entry is a token string (~0.6 KB) and its principal. */
const VERIFIED_TOKEN_CACHE_SIZE = 10_000;

/** A verification that still holds for the same token string, and what to re-check. */
interface Verified {
  principal: AuthPrincipal;
  kid: string;
  alg: string;
}

interface JoseHeader {
  alg?: unknown;
  typ?: unknown;
  kid?: unknown;
  crit?: unknown;
}

/**
 * Verifies access tokens per RFC 8725 and RFC 9068, in memory: the key is chosen by `kid` among
 * our own keys only, the algorithm is pinned to that key's, `typ` must be `at+jwt`, and `iss`,
 * `aud`, `exp` (required), `nbf` and `iat` (not in the future) are checked with the configured
 * clock tolerance. Nothing in a token makes us fetch or trust a key (`jwk`, `jku`, `x5u` are
 * ignored); `crit` is refused.
 *
 * A token that passed is remembered until its `exp` (bounded, least recently used out first):
 * the same string again skips the signature check, but never the checks that can change, its
 * session's revocation and its key's retirement.
 */
@Injectable()
export class AccessTokenVerifier {
  readonly claimChecks: Pick<VerifyOptions, 'issuer' | 'audience' | 'clockTolerance'>;
  private readonly verified = new VerifiedTokenCache<Verified>(VERIFIED_TOKEN_CACHE_SIZE);

  constructor(
    @InjectAuthOptions() options: ResolvedAuthOptions,
    private readonly keys: SigningKeysService,
    private readonly revokedSessions: RevokedSessions,
  ) {
    this.claimChecks = {
      issuer: options.issuer,
      audience: options.audience,
      clockTolerance: options.clockTolerance,
    };
  }

  /** The principal of a valid token; throws InvalidAccessTokenError otherwise. */
  verify(token: string): AuthPrincipal {
    if (token.length > MAX_TOKEN_LENGTH) throw new InvalidAccessTokenError('token too long');
    const verified = this.verified.get(token);
    if (verified) return this.recheck(token, verified);
    const key = this.selectKey(token);
    let claims: JwtPayload;
    try {
      claims = verify(token, key.verificationKey, {
        ...this.claimChecks,
        algorithms: [key.alg],
      }) as JwtPayload;
    } catch (error) {
      throw new InvalidAccessTokenError((error as Error).message);
    }
    const principal = this.toPrincipal(claims);
    this.verified.set(token, { principal, kid: key.kid, alg: key.alg }, principal.expiresAt * 1000);
    return copyOf(principal);
  }

  /** A remembered verification, once its key and its session are checked again. */
  private recheck(token: string, { principal, kid, alg }: Verified): AuthPrincipal {
    if (this.keys.findVerificationKey(kid)?.alg !== alg) {
      this.verified.delete(token);
      throw new InvalidAccessTokenError('unknown key');
    }
    if (this.revokedSessions.has(principal.sessionId)) {
      this.verified.delete(token);
      throw new InvalidAccessTokenError('session ended');
    }
    return copyOf(principal);
  }

  /** Our key named by the token's `kid`, once its header passes the checks above. */
  selectKey(token: string): {
    kid: string;
    alg: 'ES256' | 'RS256' | 'HS256';
    verificationKey: KeyObject;
  } {
    const header = decodeHeader(token);
    if (!header) throw new InvalidAccessTokenError('malformed header');
    const key =
      typeof header.kid === 'string' ? this.keys.findVerificationKey(header.kid) : undefined;
    if (!key) throw new InvalidAccessTokenError('unknown key');
    if (header.alg !== key.alg) throw new InvalidAccessTokenError('algorithm mismatch');
    if (header.typ !== ACCESS_TOKEN_TYPE && header.typ !== `application/${ACCESS_TOKEN_TYPE}`) {
      throw new InvalidAccessTokenError('not an access token');
    }
    if (header.crit !== undefined) throw new InvalidAccessTokenError('unsupported crit');
    return key;
  }

  /** Checks the claims a verified signature vouches for, and the session's revocation. */
  toPrincipal(claims: JwtPayload): AuthPrincipal {
    const { sub, sid, roles, jti, exp, iat } = claims as Record<string, unknown>;
    // jsonwebtoken checks `exp` only when present; RFC 9068 requires it.
    if (
      typeof sub !== 'string' ||
      typeof sid !== 'string' ||
      typeof exp !== 'number' ||
      !Array.isArray(roles) ||
      !roles.every((role) => typeof role === 'string')
    ) {
      throw new InvalidAccessTokenError('malformed claims');
    }
    // jsonwebtoken checks `nbf` and `exp`, not `iat`: a token whose issuer's clock ran ahead by
    // more than the tolerance is refused like one that is not valid yet.
    if (
      typeof iat === 'number' &&
      iat > Date.now() / 1000 + (this.claimChecks.clockTolerance ?? 0)
    ) {
      throw new InvalidAccessTokenError('issued in the future');
    }
    if (this.revokedSessions.has(sid)) throw new InvalidAccessTokenError('session ended');
    return { id: sub, sessionId: sid, roles, tokenId: String(jti), expiresAt: exp };
  }
}

/** A principal the caller may change without changing the remembered one. */
function copyOf(principal: AuthPrincipal): AuthPrincipal {
  return { ...principal, roles: [...principal.roles] };
}

function decodeHeader(token: string): JoseHeader | null {
  const encoded = token.slice(0, token.indexOf('.'));
  if (!encoded || encoded.length > MAX_HEADER_LENGTH) return null;
  try {
    const header: unknown = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8'));
    return header !== null && typeof header === 'object' && !Array.isArray(header) ? header : null;
  } catch {
    return null;
  }
}
