// How a resource server in Node verifies nest-token-auth access tokens: from the JWKS, with
// `jose`, pinning the algorithms and checking typ, iss, aud and exp. No shared secret, no call
// to the auth service per request (the key set is fetched once and cached; an unknown `kid`
// triggers a refetch, which is how a rotated key is picked up).
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';

export interface AccessTokenClaims extends JWTPayload {
  sub: string;
  sid: string;
  roles: string[];
}

export function createAccessTokenVerifier(issuer: string, audience: string) {
  const jwks = createRemoteJWKSet(new URL('/.well-known/jwks.json', issuer));
  return async function verifyAccessToken(token: string): Promise<AccessTokenClaims> {
    const { payload } = await jwtVerify<AccessTokenClaims>(token, jwks, {
      issuer,
      audience,
      typ: 'at+jwt',
      algorithms: ['ES256', 'RS256'],
      clockTolerance: 5,
      requiredClaims: ['exp', 'iat', 'sub', 'sid'],
    });
    return payload;
  };
}
