import type { RefreshTokenStorage } from '../types.js';

/**
 * The shape of `expo-secure-store` (iOS Keychain, Android Keystore-backed storage); wrap other
 * stores, such as `react-native-keychain`, in these three functions.
 */
export interface SecureStore {
  getItemAsync(key: string): Promise<string | null>;
  setItemAsync(key: string, value: string): Promise<void>;
  deleteItemAsync(key: string): Promise<void>;
}

/**
 * Keeps the refresh token in a platform secure store under `key`, for mobile apps:
 *
 * ```ts
 * import * as SecureStore from 'expo-secure-store';
 * createAuthClient({ transport: 'body', storage: secureStoreStorage(SecureStore), ... });
 * ```
 */
export function secureStoreStorage(
  store: SecureStore,
  key = 'nest-token-auth.refresh',
): RefreshTokenStorage {
  return {
    get: () => store.getItemAsync(key),
    set: (token) => store.setItemAsync(key, token),
    clear: () => store.deleteItemAsync(key),
  };
}
