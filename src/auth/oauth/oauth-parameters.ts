import { OAuthError } from './oauth-error';

/**
 * The parameters of an OAuth request, form-encoded or JSON. Unknown parameters are ignored
 * (RFC 6749 §3.2); a parameter sent twice is an `invalid_request`.
 */
export class OAuthParameters {
  private constructor(private readonly values: Record<string, unknown>) {}

  static from(body: unknown): OAuthParameters {
    if (body === undefined || body === null) return new OAuthParameters({});
    if (typeof body !== 'object' || Array.isArray(body)) {
      throw new OAuthError(
        'invalid_request',
        'The request body must be form-encoded or a JSON object',
      );
    }
    return new OAuthParameters(body as Record<string, unknown>);
  }

  /** A string parameter; empty counts as absent (§3.1). */
  optional(name: string, maxLength = 4096): string | undefined {
    const value = Object.hasOwn(this.values, name) ? this.values[name] : undefined;
    if (value === undefined || value === null || value === '') return undefined;
    if (Array.isArray(value))
      throw new OAuthError('invalid_request', `${name} was sent more than once`);
    if (typeof value !== 'string')
      throw new OAuthError('invalid_request', `${name} must be a string`);
    if (value.length > maxLength) throw new OAuthError('invalid_request', `${name} is too long`);
    return value;
  }

  required(name: string, maxLength?: number): string {
    const value = this.optional(name, maxLength);
    if (value === undefined) throw new OAuthError('invalid_request', `${name} is required`);
    return value;
  }
}
