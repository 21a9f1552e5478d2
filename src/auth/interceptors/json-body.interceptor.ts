import {
  type CallHandler,
  type ExecutionContext,
  Injectable,
  type NestInterceptor,
  PayloadTooLargeException,
  UnsupportedMediaTypeException,
} from '@nestjs/common';
import type { Observable } from 'rxjs';

/** Largest request body the module's routes accept; larger ones answer 413. */
export const MAX_BODY_BYTES = 16 * 1024;

const JSON_MEDIA_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

/**
 * Refuses request bodies over 16 KiB (413, by their `Content-Length`, whatever body limit the
 * host's adapter has) and bodies that are not JSON (415). An HTML form can post
 * `application/x-www-form-urlencoded` or `text/plain` cross-site without a CORS preflight;
 * JSON cannot, so accepting only JSON keeps forms on other sites from logging users in.
 */
@Injectable()
export class JsonBodyInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const { headers } = context.switchToHttp().getRequest<{ headers: Record<string, unknown> }>();
    const hasBody =
      headers['transfer-encoding'] !== undefined ||
      (headers['content-length'] !== undefined && headers['content-length'] !== '0');
    const length = Number(headers['content-length'] ?? 0);
    if (length > MAX_BODY_BYTES) {
      throw new PayloadTooLargeException(`Request bodies are limited to ${MAX_BODY_BYTES} bytes`);
    }
    const contentType = headers['content-type'];
    if (hasBody && !(typeof contentType === 'string' && JSON_MEDIA_TYPE.test(contentType))) {
      throw new UnsupportedMediaTypeException('Request bodies must be application/json');
    }
    return next.handle();
  }
}
