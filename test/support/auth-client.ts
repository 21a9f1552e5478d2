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

/** Registers a new user and logs in. */
export async function signUp(t: TestApp) {
  const user = await register(t);
  return { ...user, tokens: await login(t, user.email) };
}

export function refresh(t: TestApp, refreshToken: string) {
  return t.http().post('/auth/refresh').send({ refresh_token: refreshToken });
}

export function decodeJwt(token: string): { header: any; payload: any } {
  const [header, payload] = token.split('.');
  return {
    header: JSON.parse(Buffer.from(header, 'base64url').toString()),
    payload: JSON.parse(Buffer.from(payload, 'base64url').toString()),
  };
}
