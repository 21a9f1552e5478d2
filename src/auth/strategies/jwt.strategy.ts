import { Injectable, UnauthorizedException } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { JwtPayload } from 'jsonwebtoken';
import { ExtractJwt, Strategy } from 'passport-jwt';
import type { AuthPrincipal } from '../interfaces/auth-principal.interface';
import { AccessTokenVerifier } from '../tokens/access-token.verifier';

/**
 * The `'jwt'` passport strategy, for hosts that guard routes with `AuthGuard('jwt')` from
 * `@nestjs/passport`. It applies exactly the checks of `AccessTokenVerifier`. The module's own
 * `JwtAuthGuard` calls the verifier directly: passport keeps strategies in one process-wide
 * registry (two apps in one process would share the last one's keys) and costs time per request.
 */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  constructor(private readonly verifier: AccessTokenVerifier) {
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      secretOrKeyProvider: (
        _request: unknown,
        rawJwt: string,
        done: (error: Error | null, key?: string | Buffer) => void,
      ) => {
        try {
          // jsonwebtoken takes a KeyObject (imported once) although the typings say string | Buffer.
          done(null, verifier.selectKey(rawJwt).verificationKey as unknown as Buffer);
        } catch (error) {
          done(error as Error);
        }
      },
      // Every algorithm we may sign with; the key chosen above is checked against the header.
      algorithms: ['ES256', 'RS256', 'HS256'],
      issuer: verifier.claimChecks.issuer as string,
      audience: verifier.claimChecks.audience as string,
      jsonWebTokenOptions: { clockTolerance: verifier.claimChecks.clockTolerance },
    });
  }

  validate(claims: JwtPayload): AuthPrincipal {
    try {
      return this.verifier.toPrincipal(claims);
    } catch {
      // Passport hands errors from validate() to the guard as they are: make it a 401.
      throw new UnauthorizedException();
    }
  }
}
