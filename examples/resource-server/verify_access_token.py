# How a resource server in Python verifies nest-token-auth access tokens: from the JWKS, with
# PyJWT (Debian: python3-jwt), pinning the algorithms and checking typ, iss, aud and exp.
# Usage: verify_access_token.py ISSUER AUDIENCE TOKEN  -> prints the claims as JSON, or exits 1.
import json
import sys

import jwt


def verify_access_token(token: str, issuer: str, audience: str, jwks: jwt.PyJWKClient) -> dict:
    if jwt.get_unverified_header(token).get("typ") != "at+jwt":
        raise jwt.InvalidTokenError("not an access token")
    signing_key = jwks.get_signing_key_from_jwt(token)
    return jwt.decode(
        token,
        signing_key.key,
        algorithms=["ES256", "RS256"],
        audience=audience,
        issuer=issuer,
        leeway=5,
        options={"require": ["exp", "iat", "sub"]},
    )


if __name__ == "__main__":
    issuer, audience, token = sys.argv[1:4]
    jwks = jwt.PyJWKClient(issuer.rstrip("/") + "/.well-known/jwks.json", cache_keys=True)
    try:
        print(json.dumps(verify_access_token(token, issuer, audience, jwks)))
    except jwt.PyJWTError as error:
        print(f"rejected: {error}", file=sys.stderr)
        sys.exit(1)
