import {
  type CallHandler,
  type ExecutionContext,
  Injectable,
  type NestInterceptor,
} from '@nestjs/common';
import type { IncomingHttpHeaders } from 'node:http';
import type { Observable } from 'rxjs';
import {
  declaresBody,
  isJsonBody,
  refuseOversizedBody,
} from '../interceptors/json-body.interceptor';
import { OAuthError } from './oauth-error';

const FORM_MEDIA_TYPE = /^application\/x-www-form-urlencoded\s*(?:;|$)/i;

/**
 * The OAuth endpoints' bodies: over 16 KiB answers 413, as on `/auth/*`; a body that is neither
 * form-encoded nor JSON answers `invalid_request`. Without the check, such a body would reach the
 * route as a string on Fastify (`text/plain`) and as nothing at all on Express, and the two would
 * be refused for different reasons.
 */
@Injectable()
export class OAuthBodyInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const { headers } = context.switchToHttp().getRequest<{ headers: IncomingHttpHeaders }>();
    refuseOversizedBody(headers);
    if (declaresBody(headers) && !isJsonBody(headers) && !isFormBody(headers)) {
      throw new OAuthError(
        'invalid_request',
        'The request body must be form-encoded or a JSON object',
      );
    }
    return next.handle();
  }
}

function isFormBody(headers: IncomingHttpHeaders): boolean {
  const contentType = headers['content-type'];
  return typeof contentType === 'string' && FORM_MEDIA_TYPE.test(contentType);
}
