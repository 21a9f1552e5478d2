import { randomUUID, type KeyObject } from 'node:crypto';
import { sign } from 'jsonwebtoken';
import { assertLocal, type RequestSpec } from './load';

export const PASSWORD = 'correct horse battery staple';

export interface TokenPair {
  access_token: string;
  refresh_token: string;
  session_id: string;
}

export interface BenchUser {
  id: string;
  email: string;
}

/** POSTs JSON to a local process and returns the parsed answer; throws on another status. */
export async function postJson<T>(
  origin: string,
  path: string,
  body: unknown,
  expectStatus = 200,
): Promise<T> {
  assertLocal(origin);
  let response: Response;
  try {
    response = await fetch(origin + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
    throw new Error(`POST ${origin}${path} failed: ${cause}`, { cause: error });
  }
  const text = await response.text();
  if (response.status !== expectStatus) {
    throw new Error(`POST ${path} answered ${response.status}: ${text.slice(0, 200)}`);
  }
  return (text ? JSON.parse(text) : undefined) as T;
}

export function register(origin: string, email: string): Promise<BenchUser> {
  return postJson<BenchUser>(origin, '/auth/register', { email, password: PASSWORD }, 201);
}

function login(origin: string, email: string): Promise<TokenPair> {
  return postJson<TokenPair>(origin, '/auth/login', { email, password: PASSWORD, device: 'bench' });
}

/** `count` logins spread over `users`, at most 8 at a time (each costs an argon2 verification). */
export async function loginMany(
  origin: string,
  users: BenchUser[],
  count: number,
): Promise<TokenPair[]> {
  const sessions: TokenPair[] = new Array<TokenPair>(count);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < count; i = next++) {
      sessions[i] = await login(origin, users[i % users.length].email);
    }
  };
  await Promise.all(Array.from({ length: Math.min(8, count) }, worker));
  return sessions;
}

/** Each connection refreshes its own session: it sends the refresh token it got last. */
export function refreshRequests(sessions: TokenPair[]): (connection: number) => RequestSpec[] {
  return (connection) => {
    let refreshToken = sessions[connection % sessions.length].refresh_token;
    return [
      {
        method: 'POST',
        path: '/auth/refresh',
        headers: { 'content-type': 'application/json' },
        setupRequest: (request) => ({
          ...request,
          body: JSON.stringify({ refresh_token: refreshToken }),
        }),
        onResponse: (status, body) => {
          if (status === 200) refreshToken = (JSON.parse(body) as TokenPair).refresh_token;
        },
      },
    ];
  };
}

/** Each connection sends its own bearer token to `path`. */
export function bearerRequests(
  path: string,
  tokens: string[],
): (connection: number) => RequestSpec[] {
  return (connection) => [
    {
      method: 'GET',
      path,
      headers: { authorization: `Bearer ${tokens[connection % tokens.length]}` },
    },
  ];
}

/** Every request, on any connection, sends the next token of `tokens` (in a cycle). */
export function rotatingBearerRequests(path: string, tokens: string[]): RequestSpec[] {
  let next = 0;
  return [
    {
      method: 'GET',
      path,
      setupRequest: (request) => ({
        ...request,
        headers: { authorization: `Bearer ${tokens[next++ % tokens.length]}` },
      }),
    },
  ];
}

function decodeJwt(token: string): {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
} {
  const [header, payload] = token.split('.');
  return {
    header: JSON.parse(Buffer.from(header, 'base64url').toString()) as Record<string, unknown>,
    payload: JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>,
  };
}

/**
 * `count` distinct access tokens that the service accepts, signed here with its key (the
 * bench configures it through AUTH_JWT_PRIVATE_KEY), each a copy of `template` with its own
 * `jti`: enough of them and every request misses the verified-token cache.
 */
export function mintAccessTokens(template: string, privateKey: KeyObject, count: number): string[] {
  const { header, payload } = decodeJwt(template);
  const tokens: string[] = [];
  for (let i = 0; i < count; i++) {
    tokens.push(
      sign({ ...payload, jti: randomUUID() }, privateKey, {
        algorithm: 'ES256',
        header: { alg: 'ES256', typ: header.typ as string, kid: header.kid as string },
      }),
    );
  }
  return tokens;
}
