/**
 * The nest-token-auth client SDK: sign-in state, refresh ahead of expiry (single flight, shared
 * across tabs), and `fetch` with the bearer token. No dependencies; browsers and Node 20+.
 */
export { createAuthClient } from './auth-client';
export { AuthError } from './errors';
export { memoryStorage } from './storage/memory';
export { secureStoreStorage, type SecureStore } from './storage/secure-store';
export type {
  AuthClient,
  AuthClientOptions,
  AuthSession,
  AuthState,
  AuthUser,
  ClientTimers,
  CrossTabLocks,
  RefreshTokenStorage,
  RetryOptions,
  SessionEndReason,
  Transport,
} from './types';
