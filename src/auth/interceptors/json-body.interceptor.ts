import {
  type CallHandler,
  type ExecutionContext,
  Injectable,
  type NestInterceptor,
  PayloadTooLargeException,
  UnsupportedMediaTypeException,
} from '@nestjs/common';
import type { IncomingHttpHeaders } from 'node:http';
import type { Observable } from 'rxjs';

/** Largest request body the module's routes accept; larger ones answer 413. */
export const MAX_BODY_BYTES = 16 * 1024;

/**
 * `application/json`, with or without parameters; not `application/*+json`, which neither
 * Express's nor Fastify's default parser reads (Express would hand the route no body at all).
 */
const JSON_MEDIA_TYPE = /^application\/json\s*(?:;|$)/i;

/** Whether the request says it carries a body (a length other than 0, or chunked). */
export function declaresBody(headers: IncomingHttpHeaders): boolean {
  return (
    headers['transfer-encoding'] !== undefined ||
    (headers['content-length'] !== undefined && headers['content-length'] !== '0')
  );
}

/**
 * 413 for a body over 16 KiB by its `Content-Length`, whatever body limit the host's adapter has:
 * the adapter has read it by now, but the module does not look at it.
 */
export function refuseOversizedBody(headers: IncomingHttpHeaders): void {
  if (Number(headers['content-length'] ?? 0) > MAX_BODY_BYTES) {
    throw new PayloadTooLargeException(`Request bodies are limited to ${MAX_BODY_BYTES} bytes`);
  }
}

/** Whether the request's `Content-Type` is JSON. */
export function isJsonBody(headers: IncomingHttpHeaders): boolean {
  const contentType = headers['content-type'];
  return typeof contentType === 'string' && JSON_MEDIA_TYPE.test(contentType);
}

/**
 * Refuses request bodies over 16 KiB (413) and bodies that are not JSON (415). An HTML form can
 * post `application/x-www-form-urlencoded` or `text/plain` cross-site without a CORS preflight;
 * JSON cannot, so accepting only JSON keeps forms on other sites from logging users in.
 */
@Injectable()
export class JsonBodyInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const { headers } = context.switchToHttp().getRequest<{ headers: IncomingHttpHeaders }>();
    refuseOversizedBody(headers);
    if (declaresBody(headers) && !isJsonBody(headers)) {
      throw new UnsupportedMediaTypeException('Request bodies must be application/json');
    }
    return next.handle();
  }
}
