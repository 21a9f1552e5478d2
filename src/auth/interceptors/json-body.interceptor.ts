import {
  type CallHandler,
  type ExecutionContext,
  Injectable,
  type NestInterceptor,
  UnsupportedMediaTypeException,
} from '@nestjs/common';
import type { Observable } from 'rxjs';

const JSON_MEDIA_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

/**
 * Refuses request bodies that are not JSON (415). An HTML form can post
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
    const contentType = headers['content-type'];
    if (hasBody && !(typeof contentType === 'string' && JSON_MEDIA_TYPE.test(contentType))) {
      throw new UnsupportedMediaTypeException('Request bodies must be application/json');
    }
    return next.handle();
  }
}
