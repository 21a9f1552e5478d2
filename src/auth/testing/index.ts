/**
 * `nest-token-auth/testing`: the adopter's test kit. A host's own tests build their app with
 * `AuthModule` over an in-memory user store, mint access tokens for any user and roles, and
 * drive the hard cases (concurrent refreshes, a replayed rotated token, a revoked session, a
 * skewed clock) against their own app over HTTP. Needs nothing beyond the library's own
 * dependencies and peers.
 *
 * @example
 * import { AuthTestKit, InMemoryAuthUserStore } from 'nest-token-auth/testing';
 */
export { InMemoryAuthUserStore } from './in-memory-auth-user-store';
export {
  AuthTestKit,
  type AuthTestAccessTokenOptions,
  type AuthTestKitOptions,
  type AuthTestLoginOptions,
  type AuthTestLogoutOptions,
  type AuthTestRefreshOptions,
  type AuthTestReplay,
  type AuthTestReplayOptions,
  type AuthTestRequest,
  type AuthTestResponse,
  type AuthTestTokenResponse,
  type AuthTestUser,
  type AuthTestUserOptions,
} from './auth-test-kit';
