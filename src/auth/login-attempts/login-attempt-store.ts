/** The state of an account's failed-login counter. */
export interface LoginAttemptState {
  /** Failures in the current window. */
  failures: number;
  /** Milliseconds until the window (and any lock) ends. */
  resetInMs: number;
}

/**
 * Counts failed logins per account in a fixed window. The default lives in process memory; with
 * several instances bind one that shares the counters (the service uses Redis when
 * `REDIS_URL` is set).
 */
export abstract class LoginAttemptStore {
  /** The current state, or null when the account has no failures in a live window. */
  abstract get(key: string): Promise<LoginAttemptState | null>;
  /** Counts one failure; the window starts with the first failure and lasts `windowMs`. */
  abstract recordFailure(key: string, windowMs: number): Promise<LoginAttemptState>;
  abstract clear(key: string): Promise<void>;
}

/** In-process counters; entries disappear when their window ends. */
export class MemoryLoginAttemptStore extends LoginAttemptStore {
  private readonly windows = new Map<string, { failures: number; endsAt: number }>();

  get(key: string): Promise<LoginAttemptState | null> {
    const window = this.live(key);
    return Promise.resolve(
      window ? { failures: window.failures, resetInMs: window.endsAt - Date.now() } : null,
    );
  }

  recordFailure(key: string, windowMs: number): Promise<LoginAttemptState> {
    const now = Date.now();
    const window = this.live(key) ?? { failures: 0, endsAt: now + windowMs };
    window.failures += 1;
    this.windows.set(key, window);
    if (this.windows.size > 10_000) this.sweep(now);
    return Promise.resolve({ failures: window.failures, resetInMs: window.endsAt - now });
  }

  clear(key: string): Promise<void> {
    this.windows.delete(key);
    return Promise.resolve();
  }

  private live(key: string) {
    const window = this.windows.get(key);
    if (window && window.endsAt <= Date.now()) {
      this.windows.delete(key);
      return undefined;
    }
    return window;
  }

  private sweep(now: number): void {
    for (const [key, window] of this.windows) if (window.endsAt <= now) this.windows.delete(key);
  }
}
