import fastifyCookie from '@fastify/cookie';
import type { DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';

/** Largest request body accepted; larger ones answer 413. */
export const BODY_LIMIT_BYTES = 16 * 1024;

/** Builds the HTTP app exactly as `main.ts` serves it; tests use the same function. */
export async function createApp(
  module: DynamicModule,
  options: { logger?: false } = {},
): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({ bodyLimit: BODY_LIMIT_BYTES, trustProxy: false });
  const app = await NestFactory.create<NestFastifyApplication>(module, adapter, {
    logger: options.logger,
    bufferLogs: false,
  });
  await app.register(fastifyCookie);
  app.enableShutdownHooks();
  return app;
}
