import type { RefreshTokenStorage } from '../types.js';

/**
 * Keeps the refresh token in this client's memory only: gone when the process or page ends.
 * The default with the body transport; right for Node services that log in at start.
 */
export function memoryStorage(): RefreshTokenStorage {
  let token: string | null = null;
  return {
    get: () => Promise.resolve(token),
    set: (value) => {
      token = value;
      return Promise.resolve();
    },
    clear: () => {
      token = null;
      return Promise.resolve();
    },
  };
}
