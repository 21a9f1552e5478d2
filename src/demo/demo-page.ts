import fastifyStatic from '@fastify/static';
import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';

/**
 * Where `scripts/build-client.mjs` writes the demo page: dist/public, whether this file runs
 * built (dist/src/demo) or from source under Jest (src/demo).
 */
export const DEMO_PAGE_DIR = ((): string => {
  const up = resolve(__dirname, '..', '..');
  return basename(up) === 'dist' ? join(up, 'public') : join(up, 'dist', 'public');
})();

/**
 * Serves the demo page (client/demo, built) at `/` and its files under `/assets/`, outside Nest's
 * guards: they are public. Only the files present at start are served (no wildcard route, so
 * nothing else under `/` changes). Without a build the page is simply absent.
 */
@Injectable()
export class DemoPage implements OnModuleInit {
  private readonly logger = new Logger(DemoPage.name);

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  async onModuleInit(): Promise<void> {
    const adapter = this.adapterHost.httpAdapter;
    if (adapter?.getType() !== 'fastify') return;
    if (!existsSync(join(DEMO_PAGE_DIR, 'index.html'))) {
      this.logger.warn(`demo page not built (${DEMO_PAGE_DIR}): npm run build builds it`);
      return;
    }
    const fastify = adapter.getInstance<FastifyInstance>();
    await fastify.register(fastifyStatic, {
      root: DEMO_PAGE_DIR,
      prefix: '/',
      wildcard: false,
      index: 'index.html',
      decorateReply: false,
      dotfiles: 'deny',
      // The file names carry no hash: the browser revalidates with the ETag each time.
      cacheControl: false,
      setHeaders: (reply) => {
        reply.header('Cache-Control', 'no-cache');
      },
    });
  }
}
