import { parseRetryAfter, wwwAuthenticateError } from './http.js';

/** What the service answered when a call failed (network failures reject with fetch's error). */
export class AuthError extends Error {
  override name = 'AuthError';
  /** HTTP status of the answer. */
  readonly status: number;
  /**
   * What to branch on: the RFC 6750 `error` of `WWW-Authenticate` (`invalid_token`), else an
   * OAuth `error` (`invalid_grant`), else the service's message (`Invalid email or password`).
   */
  readonly code?: string;
  /** The delay the server asked for with `Retry-After` (429, 503), in milliseconds. */
  readonly retryAfterMs?: number;

  constructor(
    message: string,
    details: { status: number; code?: string; retryAfterMs?: number; cause?: unknown },
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.status = details.status;
    this.code = details.code;
    this.retryAfterMs = details.retryAfterMs;
  }

  /** Reads the error out of a non-successful response (consumes its body). */
  static async fromResponse(response: Response, now: number = Date.now()): Promise<AuthError> {
    let body: unknown = null;
    try {
      const text = await response.text();
      body = text ? JSON.parse(text) : null;
    } catch {
      // Not JSON (a proxy's HTML page): the status alone has to do.
    }
    const fields = body && typeof body === 'object' ? (body as Record<string, unknown>) : {};
    const oauthError =
      typeof fields.error === 'string' && /^[a-z0-9_]+$/.test(fields.error)
        ? fields.error
        : undefined;
    const serviceMessage = Array.isArray(fields.message)
      ? fields.message.filter((part) => typeof part === 'string').join('; ')
      : typeof fields.message === 'string'
        ? fields.message
        : undefined;
    const description =
      typeof fields.error_description === 'string' ? fields.error_description : undefined;
    const code =
      wwwAuthenticateError(response.headers.get('www-authenticate')) ??
      oauthError ??
      serviceMessage;
    const text =
      description ?? serviceMessage ?? oauthError ?? (response.statusText || 'Request failed');
    return new AuthError(`${response.status} ${text}`, {
      status: response.status,
      code,
      retryAfterMs: parseRetryAfter(response.headers, now),
    });
  }
}
