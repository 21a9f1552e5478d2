/**
 * The nest-token-auth client SDK: sign-in state, refresh ahead of expiry (single flight, shared
 * across tabs), and `fetch` with the bearer token. No dependencies; browsers and Node 20+.
 */
export { createAuthClient } from './auth-client.js';
export { AuthError } from './errors.js';
export { memoryStorage } from './storage/memory.js';
export { secureStoreStorage, type SecureStore } from './storage/secure-store.js';
export type {
  AuthClient,
  AuthClientOptions,
  AuthSession,
  AuthState,
  AuthUser,
  ClientTimers,
  CrossTabLockOptions,
  CrossTabLocks,
  RefreshTokenStorage,
  RetryOptions,
  SessionEndReason,
  Transport,
} from './types.js';
