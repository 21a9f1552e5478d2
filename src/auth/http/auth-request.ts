import type { IncomingHttpHeaders } from 'node:http';
import type { ClientContext } from '../auth.service';
import type { AuthPrincipal } from '../interfaces/auth-principal.interface';

/**
 * What the module reads of a request, on Express and on Fastify alike: no adapter type appears
 * in the module's code or its public API.
 */
export interface AuthRequest {
  headers: IncomingHttpHeaders;
  ip?: string;
  user?: AuthPrincipal;
}

/** The client's user agent (at most 512 characters) and address, stored on its session. */
export function clientOf(request: AuthRequest): ClientContext {
  return {
    userAgent: request.headers['user-agent']?.slice(0, 512) ?? null,
    ip: request.ip ?? null,
  };
}
