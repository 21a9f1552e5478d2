import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { AppModule } from '../src/app.module.js';

export const PASSWORD = 'correct horse battery staple';

export interface TokenResponse {
  access_token: string;
  token_type: string;
  expires_in: number;
  refresh_token?: string;
  refresh_token_expires_in?: number;
  session_id: string;
}

/**
 * The app as main.ts serves it, on the database of DATABASE_URL. A rotated refresh token is
 * never accepted again (grace 0), so reuse is detected at once.
 */
export async function createTestApp(): Promise<NestFastifyApplication> {
  process.env.AUTH_REFRESH_REUSE_GRACE = '0';
  const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
  return initApp(
    moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), {
      logger: false,
    }),
  );
}

/** Initialises the app and waits for Fastify to be ready, so supertest can use its server. */
export async function initApp(app: NestFastifyApplication): Promise<NestFastifyApplication> {
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  return app;
}

export function http(app: NestFastifyApplication) {
  return request(app.getHttpServer());
}

export function uniqueEmail(label: string): string {
  return `${label}-${randomUUID().slice(0, 8)}@example.test`;
}

export async function register(app: NestFastifyApplication, email = uniqueEmail('user')) {
  const response = await http(app).post('/auth/register').send({ email, password: PASSWORD });
  if (response.status !== 201) throw new Error(`register: ${response.status} ${response.text}`);
  return { id: (response.body as { id: string }).id, email };
}

export async function login(app: NestFastifyApplication, email: string): Promise<TokenResponse> {
  const response = await http(app).post('/auth/login').send({ email, password: PASSWORD });
  if (response.status !== 200) throw new Error(`login: ${response.status} ${response.text}`);
  return response.body as TokenResponse;
}

/** The `Set-Cookie` headers of a response, whatever the adapter made of them. */
export function setCookies(response: { headers: Record<string, unknown> }): string[] {
  const header = response.headers['set-cookie'];
  if (header === undefined) return [];
  return Array.isArray(header) ? (header as string[]) : [String(header)];
}

/** The value of the refresh cookie a response sets, with its attributes. */
export function refreshCookie(response: { headers: Record<string, unknown> }) {
  const cookie = setCookies(response).find((c) => c.startsWith('refresh_token='));
  if (!cookie) return undefined;
  const [pair, ...attributes] = cookie.split(';').map((part) => part.trim());
  return { value: pair.slice('refresh_token='.length), attributes };
}
