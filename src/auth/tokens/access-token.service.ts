import { Inject, Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { randomUUID } from 'node:crypto';
import { ACCESS_TOKEN_TYPE, AUTH_OPTIONS } from '../auth.constants';
import type { ResolvedAuthOptions } from '../interfaces/auth-module-options.interface';
import type { AccessTokenClaims } from '../interfaces/auth-principal.interface';
import { SigningKeysService } from '../keys/signing-keys.service';

export interface AccessTokenSubject {
  userId: string;
  sessionId: string;
  roles: string[];
}

/** Issues RFC 9068 (`at+jwt`) access tokens signed with the current key. */
@Injectable()
export class AccessTokenService {
  constructor(
    @Inject(AUTH_OPTIONS) private readonly options: ResolvedAuthOptions,
    private readonly jwt: JwtService,
    private readonly keys: SigningKeysService,
  ) {}

  /** A token for the subject, expiring after the configured lifetime or at `notAfter`. */
  issue(subject: AccessTokenSubject, notAfter?: Date): { token: string; expiresIn: number } {
    const key = this.keys.currentKey();
    const untilEnd = notAfter ? Math.floor((notAfter.getTime() - Date.now()) / 1000) : Infinity;
    const expiresIn = Math.max(1, Math.min(this.options.accessTokenTtl, untilEnd));
    const claims: Pick<AccessTokenClaims, 'sid' | 'roles'> = {
      sid: subject.sessionId,
      roles: subject.roles,
    };
    const token = this.jwt.sign(claims, {
      privateKey: key.signingKey as unknown as string,
      algorithm: key.alg,
      header: { alg: key.alg, typ: ACCESS_TOKEN_TYPE, kid: key.kid },
      issuer: this.options.issuer,
      audience: this.options.audience,
      subject: subject.userId,
      jwtid: randomUUID(),
      expiresIn,
    });
    return { token, expiresIn };
  }
}
