import { Injectable } from '@nestjs/common';
import { createHmac, randomUUID, sign } from 'node:crypto';
import { ACCESS_TOKEN_TYPE } from '../auth.constants';
import type { ResolvedAuthOptions } from '../interfaces/auth-module-options.interface';
import type { AccessTokenClaims } from '../interfaces/auth-principal.interface';
import type { ActiveKey } from '../keys/key-material';
import { SigningKeysService } from '../keys/signing-keys.service';
import { InjectAuthOptions } from '../decorators/inject-auth-options.decorator';

export interface AccessTokenSubject {
  userId: string;
  sessionId: string;
  roles: string[];
}

/**
 * Issues RFC 9068 (`at+jwt`) access tokens signed with the current key: a JWS compact
 * serialization written with node:crypto. Every login and refresh signs one; jsonwebtoken
 * re-validated its options and re-encoded the same header on each call, about a quarter of the
 * signing time.
 */
@Injectable()
export class AccessTokenService {
  /** The encoded header of each key: the same bytes for every token it signs. */
  private readonly headers = new WeakMap<ActiveKey, string>();

  constructor(
    @InjectAuthOptions() private readonly options: ResolvedAuthOptions,
    private readonly keys: SigningKeysService,
  ) {}

  /**
   * A token for the subject, expiring after the configured lifetime or at `notAfter`, issued
   * `now` (the instant the caller's session was stamped with, so a whole lifetime stays whole).
   */
  issue(
    subject: AccessTokenSubject,
    notAfter?: Date,
    now = new Date(),
  ): { token: string; expiresIn: number } {
    const key = this.keys.currentKey();
    const nowMs = now.getTime();
    const untilEnd = notAfter ? Math.floor((notAfter.getTime() - nowMs) / 1000) : Infinity;
    const expiresIn = Math.max(1, Math.min(this.options.accessTokenTtl, untilEnd));
    const issuedAt = Math.floor(nowMs / 1000);
    const claims: AccessTokenClaims = {
      iss: this.options.issuer,
      aud: this.options.audience,
      sub: subject.userId,
      exp: issuedAt + expiresIn,
      iat: issuedAt,
      jti: randomUUID(),
      sid: subject.sessionId,
      roles: subject.roles,
    };
    const signingInput = `${this.encodedHeader(key)}.${base64url(JSON.stringify(claims))}`;
    return { token: `${signingInput}.${signature(key, signingInput)}`, expiresIn };
  }

  private encodedHeader(key: ActiveKey): string {
    let header = this.headers.get(key);
    if (header === undefined) {
      header = base64url(JSON.stringify({ alg: key.alg, typ: ACCESS_TOKEN_TYPE, kid: key.kid }));
      this.headers.set(key, header);
    }
    return header;
  }
}

function base64url(json: string): string {
  return Buffer.from(json).toString('base64url');
}

/** RFC 7518 §3: HMAC-SHA256, ECDSA P-256 with a raw r||s signature, RSASSA-PKCS1-v1_5. */
function signature(key: ActiveKey, signingInput: string): string {
  if (key.alg === 'HS256') {
    return createHmac('sha256', key.signingKey).update(signingInput).digest('base64url');
  }
  const data = Buffer.from(signingInput);
  const signed =
    key.alg === 'ES256'
      ? sign('sha256', data, { key: key.signingKey, dsaEncoding: 'ieee-p1363' })
      : sign('sha256', data, key.signingKey);
  return signed.toString('base64url');
}
