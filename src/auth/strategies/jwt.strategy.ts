import { Inject, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { ACCESS_TOKEN_TYPE, AUTH_OPTIONS } from '../auth.constants';
import type { ResolvedAuthOptions } from '../interfaces/auth-module-options.interface';
import type { AccessTokenClaims, AuthPrincipal } from '../interfaces/auth-principal.interface';
import { SigningKeysService } from '../keys/signing-keys.service';
import { RevokedSessions } from '../sessions/revoked-sessions';

/** Raised for any access token we refuse; the message is safe to show. */
export class InvalidAccessTokenError extends Error {
  readonly code = 'ERR_INVALID_ACCESS_TOKEN';
}

/**
 * Verifies bearer tokens from the Authorization header only. The key is chosen by `kid` among
 * our own keys, the algorithm is pinned to that key's, and `typ`, `iss`, `aud`, `exp`, `nbf`
 * are checked; nothing in the token makes us fetch or trust a key (`jwk`, `jku`, `x5u`).
 */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  constructor(
    @Inject(AUTH_OPTIONS) options: ResolvedAuthOptions,
    keys: SigningKeysService,
    private readonly revokedSessions: RevokedSessions,
  ) {
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      secretOrKeyProvider: (
        _request: unknown,
        rawJwt: string,
        done: (error: Error | null, key?: string | Buffer) => void,
      ) => {
        const header = decodeHeader(rawJwt);
        const key =
          header && typeof header.kid === 'string'
            ? keys.findVerificationKey(header.kid)
            : undefined;
        if (!header || !key) return done(new InvalidAccessTokenError('unknown key'));
        if (header.alg !== key.alg) return done(new InvalidAccessTokenError('algorithm mismatch'));
        if (header.typ !== ACCESS_TOKEN_TYPE && header.typ !== `application/${ACCESS_TOKEN_TYPE}`) {
          return done(new InvalidAccessTokenError('not an access token'));
        }
        if (header.crit !== undefined) return done(new InvalidAccessTokenError('unsupported crit'));
        // jsonwebtoken takes a KeyObject (imported once) although the typings say string | Buffer.
        done(null, key.verificationKey as unknown as Buffer);
      },
      // Every algorithm we may sign with; the key chosen above narrows it to exactly one.
      algorithms: ['ES256', 'RS256', 'HS256'],
      issuer: options.issuer,
      audience: options.audience,
      jsonWebTokenOptions: { clockTolerance: options.clockTolerance },
    });
  }

  validate(claims: AccessTokenClaims): AuthPrincipal {
    const { sub, sid, roles, jti, exp } = claims;
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
    if (this.revokedSessions.has(sid)) throw new InvalidAccessTokenError('session ended');
    return { id: sub, sessionId: sid, roles, tokenId: jti, expiresAt: exp };
  }
}

interface JoseHeader {
  alg?: unknown;
  typ?: unknown;
  kid?: unknown;
  crit?: unknown;
}

function decodeHeader(rawJwt: string): JoseHeader | null {
  const encoded = rawJwt.slice(0, rawJwt.indexOf('.'));
  if (!encoded || encoded.length > 1024) return null;
  try {
    const header: unknown = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8'));
    return header !== null && typeof header === 'object' ? header : null;
  } catch {
    return null;
  }
}
