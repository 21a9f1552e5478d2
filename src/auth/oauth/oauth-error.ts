import { HttpStatus } from '@nestjs/common';

/** RFC 6749 §5.2 error codes we answer with. */
export type OAuthErrorCode =
  'invalid_request' | 'invalid_grant' | 'unsupported_grant_type' | 'unsupported_token_type';

/** An error of the OAuth endpoints: `{ error, error_description }`, 400 unless said otherwise. */
export class OAuthError extends Error {
  constructor(
    readonly error: OAuthErrorCode,
    readonly description: string,
    readonly status: number = HttpStatus.BAD_REQUEST,
  ) {
    super(description);
  }
}
