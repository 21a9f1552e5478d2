import type { DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import helmet from 'helmet';
import { Logger as PinoLogger } from 'nestjs-pino';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** Largest request body accepted; larger ones answer 413. */
export const BODY_LIMIT_BYTES = 16 * 1024;

export interface AppOptions {
  /** `'pino'`: structured JSON logs (the module must import nestjs-pino's LoggerModule). */
  logger?: false | 'pino';
  /** Origins allowed to call the API from a browser, with credentials; none = same origin only. */
  corsOrigins?: string[];
}

/** Builds the HTTP app exactly as `main.ts` serves it; tests use the same function. */
export async function createApp(
  module: DynamicModule,
  options: AppOptions = {},
): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    bodyLimit: BODY_LIMIT_BYTES,
    trustProxy: false,
    requestIdHeader: false,
    genReqId: requestId,
  });
  const app = await NestFactory.create<NestFastifyApplication>(module, adapter, {
    logger: options.logger === false ? false : undefined,
    bufferLogs: options.logger === 'pino',
  });
  if (options.logger === 'pino') app.useLogger(app.get(PinoLogger));
  if (options.corsOrigins?.length) {
    app.enableCors({
      origin: options.corsOrigins,
      credentials: true,
      methods: ['GET', 'POST', 'PATCH', 'DELETE'],
      allowedHeaders: ['Authorization', 'Content-Type', 'Auth-Transport'],
      maxAge: 600,
    });
  }
  const fastify = app.getHttpAdapter().getInstance();
  // helmet's defaults: CSP, HSTS, nosniff, frame denial, no referrer leaks (Fastify sends no
  // X-Powered-By). The middleware is built once, here: @fastify/helmet 13 builds it anew, options
  // parsed again, on every request (about 25 µs of CPU each, see docs/PERFORMANCE.md).
  const securityHeaders = helmet();
  fastify.addHook('onRequest', (request, reply, done) => {
    securityHeaders(request.raw, reply.raw, (error) => done(error as Error | undefined));
  });
  // onSend, not onRequest: CORS preflights are answered before onRequest hooks run.
  let closing = false;
  fastify.addHook('onSend', async (request, reply, payload) => {
    reply.header('X-Request-Id', request.id);
    // While shutting down, no connection is kept alive: Node closes only idle ones, and a busy
    // keep-alive connection would otherwise hold the process open for the keep-alive timeout.
    if (closing) reply.header('Connection', 'close');
    return payload;
  });
  fastify.addHook('preClose', (done) => {
    closing = true;
    fastify.server.closeIdleConnections();
    done();
  });
  // process.exit after the hooks (not re-raising the signal) lets pino flush its last lines.
  app.enableShutdownHooks(undefined, { useProcessExit: true });
  return app;
}

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** The caller's `X-Request-Id` when it is sane, else a new UUID; logged on every line. */
function requestId(request: IncomingMessage): string {
  const given = request.headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}
