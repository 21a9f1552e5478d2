import type { TestApp } from './test-app';

export const PASSWORD = 'correct horse battery';

let counter = 0;
/** A unique email for each call. */
export function uniqueEmail(prefix = 'user'): string {
  counter += 1;
  return `${prefix}${counter}.${Date.now()}@example.com`;
}

export interface TokenPair {
  access_token: string;
  refresh_token: string;
  session_id: string;
  expires_in: number;
  refresh_token_expires_in: number;
}

export async function register(t: TestApp, email = uniqueEmail(), password = PASSWORD) {
  const response = await t.http().post('/auth/register').send({ email, password }).expect(201);
  return { email, password, id: response.body.id as string };
}

export async function login(t: TestApp, email: string, password = PASSWORD): Promise<TokenPair> {
  const response = await t.http().post('/auth/login').send({ email, password }).expect(200);
  return response.body as TokenPair;
}

/** Registers a new user (with `email` when given) and logs in. */
export async function signUp(t: TestApp, email = uniqueEmail()) {
  const user = await register(t, email);
  return { ...user, tokens: await login(t, user.email) };
}

export function refresh(t: TestApp, refreshToken: string) {
  return t.http().post('/auth/refresh').send({ refresh_token: refreshToken });
}

/** GET `path` with `Authorization: Bearer <accessToken>`. */
export function getWithBearer(t: TestApp, path: string, accessToken: string) {
  return t.http().get(path).set('Authorization', `Bearer ${accessToken}`);
}

/** GET /auth/me as the bearer of `accessToken`. */
export function me(t: TestApp, accessToken: string) {
  return getWithBearer(t, '/auth/me', accessToken);
}

/** The 401 of a guarded route that refused the bearer token itself. */
export function expectInvalidToken(response: {
  status: number;
  headers: Record<string, string>;
}): void {
  expect(response.status).toBe(401);
  expect(response.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
}

/** The keys GET /.well-known/jwks.json publishes. */
export async function jwks(t: TestApp): Promise<{ kid: string; alg: string; kty: string }[]> {
  const response = await t.http().get('/.well-known/jwks.json').expect(200);
  return response.body.keys;
}

/** The kids the JWKS publishes, sorted. */
export async function jwksKids(t: TestApp): Promise<string[]> {
  return (await jwks(t)).map((key) => key.kid).sort();
}

export function decodeJwt(token: string): { header: any; payload: any } {
  const [header, payload] = token.split('.');
  return {
    header: JSON.parse(Buffer.from(header, 'base64url').toString()),
    payload: JSON.parse(Buffer.from(payload, 'base64url').toString()),
  };
}

/** The same token with some payload claims changed and the original signature kept. */
export function withPayload(token: string, changes: Record<string, unknown>): string {
  const [header, , signature] = token.split('.');
  const payload = Buffer.from(JSON.stringify({ ...decodeJwt(token).payload, ...changes }));
  return `${header}.${payload.toString('base64url')}.${signature}`;
}
