import { RequestMethod } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';

/**
 * Structured JSON logs (pino) with the request id (see `requestId` in app.setup.ts) on every
 * line. Requests are logged by method, path and client, never
 * by headers or query strings, so `Authorization`, cookies and tokens never reach the log; the
 * redaction list covers the field names that could carry a secret anywhere else.
 */
export function loggingModule(level: string) {
  return LoggerModule.forRoot({
    // nestjs-pino's default route pattern ('{/*splat}') matches nothing under Nest 12's Fastify
    // adapter; '*splat' matches every path.
    forRoutes: [{ path: '*splat', method: RequestMethod.ALL }],
    pinoHttp: {
      level,
      serializers: {
        req: (request: { id: string; method: string; url: string; remoteAddress?: string }) => ({
          id: request.id,
          method: request.method,
          path: request.url.split('?')[0],
          remoteAddress: request.remoteAddress,
        }),
        res: (response: { statusCode: number }) => ({ statusCode: response.statusCode }),
      },
      redact: {
        paths: [
          'req.headers.authorization',
          'req.headers.cookie',
          'res.headers["set-cookie"]',
          '*.password',
          '*.currentPassword',
          '*.newPassword',
          '*.refresh_token',
          '*.access_token',
          '*.token',
          '*.secret',
        ],
        censor: '[redacted]',
      },
      customLogLevel: (_request, response, error) =>
        error || response.statusCode >= 500 ? 'error' : 'info',
    },
  });
}
