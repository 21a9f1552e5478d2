/**
 * How the refresh token travels. `cookie`: an `HttpOnly` cookie the browser keeps (the SDK never
 * sees it); `body`: in the JSON bodies, kept by the SDK in a {@link RefreshTokenStorage}.
 */
export type Transport = 'cookie' | 'body';

/**
 * Where the refresh token lives with the body transport (mobile apps, Node services). Plug in a
 * wrapper of the platform's secure store (iOS Keychain, Android Keystore), e.g.
 * `secureStoreStorage`. Never used with the cookie transport.
 */
export interface RefreshTokenStorage {
  /** The stored refresh token, or null when there is none. */
  get(): Promise<string | null>;
  /** Replaces the stored refresh token (after login and after every rotation). */
  set(token: string): Promise<void>;
  /** Forgets the refresh token (the session ended). */
  clear(): Promise<void>;
}

/** Why the session ended, as `onSessionEnded` reports it. */
export type SessionEndReason =
  /** `logout()`, `logoutAll()`, revoking the current session, or another tab did so. */
  | 'logout'
  /** The server refused the refresh token (revoked, reused, or the user was disabled). */
  | 'revoked'
  /** The server refused the refresh token after the session's known end. */
  | 'expired'
  /** The server kept refusing freshly refreshed access tokens: the loop cap stopped it. */
  | 'loop';

/** What `subscribe` listeners receive. */
export interface AuthState {
  signedIn: boolean;
}

/** A user as the service returns it. */
export interface AuthUser {
  id: string;
  email: string;
  name: string | null;
  roles: string[];
  createdAt: string;
}

/** One active session (one login on one device) of the signed-in user. */
export interface AuthSession {
  id: string;
  device: string | null;
  userAgent: string | null;
  ip: string | null;
  createdAt: string;
  lastUsedAt: string;
  expiresAt: string;
  /** True for the session this client is signed in with. */
  current: boolean;
}

/** Timer functions the client schedules with; swap them in tests. */
export interface ClientTimers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Backoff of a refresh that failed for a transient reason (network error, 429, 5xx). */
export interface RetryOptions {
  /**
   * Delay before the first retry; each further retry doubles it, and each delay is drawn at
   * random from its upper half (jitter, so many clients do not retry in step).
   * @default 500
   */
  initialDelayMs?: number;
  /**
   * Longest delay between two attempts. A `Retry-After` longer than this ends the round at once
   * (the waiting calls are rejected) and the next attempt is scheduled after `Retry-After`.
   * After a failed round the next attempt is at least this far away.
   * @default 30000
   */
  maxDelayMs?: number;
  /**
   * Attempts per round, the first included.
   * @default 4
   */
  maxAttempts?: number;
}

/** The options of a Web Locks request that the client uses. */
export interface CrossTabLockOptions {
  /**
   * Grant the lock only if nobody holds it or waits for it; otherwise call the callback at once
   * with `null` instead of a lock.
   */
  ifAvailable?: boolean;
  /** Aborting it withdraws a request that was not granted yet (the request rejects). */
  signal?: AbortSignal;
}

/**
 * The part of the Web Locks API (`navigator.locks`) the client uses: runs `callback` while
 * holding the exclusive lock `name` (or with `null` when `ifAvailable` found it taken), and
 * resolves with its result once the lock is released.
 */
export interface CrossTabLocks {
  request<T>(
    name: string,
    options: CrossTabLockOptions,
    callback: (lock: unknown) => Promise<T>,
  ): Promise<T>;
}

/** Options of {@link createAuthClient}. */
export interface AuthClientOptions {
  /**
   * Where the service is: `https://auth.example.com`, or `https://example.com/api` when it is
   * mounted under a path (paths are appended, not URL-resolved). `''` means the page's own
   * origin in a browser; Node needs an absolute URL.
   */
  baseUrl: string;
  /** `cookie` for browsers, `body` for mobile apps and Node services. */
  transport: Transport;
  /**
   * Body transport: where the refresh token is kept. The client writes the new token before the
   * login or refresh that produced it resolves, and clears it when the session ends.
   * @default memoryStorage()
   */
  storage?: RefreshTokenStorage;
  /**
   * A stable id of this installation (8 to 200 characters, kept in secure storage), sent as
   * `device_id` on login and refresh so a server with `AUTH_REFRESH_BINDING=device` binds the
   * session to it. Not sent when unset.
   */
  deviceId?: string;
  /** A name for this device, sent as `device` on login and shown in the session list. */
  device?: string;
  /**
   * The fetch implementation.
   * @default globalThis.fetch (bound to globalThis)
   */
  fetch?: typeof fetch;
  /**
   * Refresh this many seconds before the access token expires; capped to half the token's
   * lifetime so short-lived tokens are not refreshed the moment they arrive.
   * @default 30
   */
  refreshAheadSeconds?: number;
  /**
   * Loop cap: how many refreshes forced by a rejected access token (401 `invalid_token`) may
   * follow each other without any request being accepted in between. The next one ends the
   * session with reason `loop` instead, so a server that answers 401 to fresh tokens cannot make
   * the client refresh forever. Scheduled refreshes ahead of expiry do not count.
   * @default 3
   */
  maxConsecutiveRefreshes?: number;
  /** Backoff of refreshes that fail for a transient reason. */
  retry?: RetryOptions;
  /**
   * Coordinate the tabs of one origin, so that one session is refreshed once, not once per tab:
   *
   * - One tab leads: the one holding the Web Lock `auth-leader:<name>`, asked for at start and
   *   held until `close()` or until the page goes away (closed, reloaded, or put in the
   *   back/forward cache; it asks again when shown from there); the next tab in line then takes
   *   over. Only the leader refreshes ahead of expiry (`refreshAheadSeconds`); it posts the new
   *   access token on a BroadcastChannel and the other tabs adopt it.
   * - The other tabs refresh only when they must: their token expired or was refused (401
   *   `invalid_token`), or it is about to expire and no newer one came from the leader (a frozen
   *   or discarded tab): halfway between the leader's refresh time and the expiry.
   * - Every refresh runs under the Web Lock `auth-refresh:<name>`. A tab that finds it taken
   *   waits for it, then adopts the token the holder posted, waiting up to half a second for the
   *   message (lock grants and channel messages come in no fixed order) before it refreshes
   *   itself. Each token carries a generation, so a late message never replaces a newer token.
   * - A session end signs every tab out.
   *
   * Needs `navigator.locks` (or the `locks` option) and `BroadcastChannel`; without them the
   * client works alone. Should the refreshing tab's message be lost altogether, a tab that waited
   * refreshes once more by itself; if its request still carried the rotated refresh token, that
   * is within the service's reuse grace (`AUTH_REFRESH_REUSE_GRACE`), which accepts it.
   *
   * With the body transport, turn it on only when `storage` is shared by the tabs: the tabs then
   * share one session.
   * @default true with the cookie transport when both APIs exist; false with the body transport
   */
  crossTab?: boolean;
  /**
   * The Web Locks implementation used with `crossTab`.
   * @default navigator.locks
   */
  locks?: CrossTabLocks;
  /**
   * Distinguishes clients of different services on one origin: the locks are
   * `auth-refresh:<name>` and `auth-leader:<name>`, the channel `auth-session:<name>`.
   * @default 'nest-token-auth'
   */
  name?: string;
  /**
   * Origins other than the service's whose requests through `client.fetch` carry the access
   * token (resource servers that verify it from the JWKS). Requests to any other origin are
   * sent without it, so the token does not leak to third parties.
   * @default [] (only the origin of `baseUrl`, or the page's origin when `baseUrl` is relative)
   */
  apiOrigins?: string[];
  /**
   * Called once when a session ends: `logout` (this or another tab), `revoked` or `expired` (the
   * server refused the refresh token), `loop` (see `maxConsecutiveRefreshes`).
   */
  onSessionEnded?: (reason: SessionEndReason) => void;
  /**
   * Called with errors the application might not otherwise see: a refresh round that failed
   * for a transient reason (the session is kept and retried later), a storage failure.
   */
  onError?: (error: unknown) => void;
  /**
   * The local clock, in milliseconds since the epoch.
   * @default Date.now
   */
  now?: () => number;
  /**
   * Timers for the scheduled refresh and the backoff.
   * @default globalThis.setTimeout / clearTimeout (the refresh timer does not keep Node alive)
   */
  timers?: ClientTimers;
}

/** A client of the service: sign-in state, token refresh, and authorized requests. */
export interface AuthClient {
  /** Logs in (`POST /auth/login`), then returns the user (`GET /auth/me`). */
  login(credentials: { email: string; password: string }): Promise<AuthUser>;
  /** Creates an account (`POST /auth/register`). It does not sign in. */
  register(input: { email: string; password: string; name?: string }): Promise<AuthUser>;
  /**
   * Page load or app start: when not signed in, tries one refresh with the cookie or the stored
   * refresh token. Resolves with the user, or null when there is no session (not an error);
   * rejects when the service cannot be reached (the session may still exist).
   */
  restore(): Promise<AuthUser | null>;
  /**
   * Ends this session on the server (`POST /auth/logout`) and here, even when the request
   * fails (the failure is then rethrown). Calls `onSessionEnded('logout')`.
   */
  logout(): Promise<void>;
  /** Ends every session of the user (`POST /auth/logout-all`), this one included. */
  logoutAll(): Promise<void>;
  /** The signed-in user (`GET /auth/me`). */
  me(): Promise<AuthUser>;
  /** The user's active sessions (`GET /auth/sessions`). */
  sessions(): Promise<AuthSession[]>;
  /** Ends one of the user's sessions (`DELETE /auth/sessions/:id`); the current one signs out. */
  revokeSession(id: string): Promise<void>;
  /**
   * `fetch` with `Authorization: Bearer <access token>` (for the service's origin and
   * `apiOrigins`); relative URLs are appended to `baseUrl`. An expired token is refreshed first;
   * a 401 `invalid_token` answer triggers one refresh and one retry of the request (the body is
   * buffered beforehand, so it can be sent twice). Without a session the request goes out
   * without a token and its 401 is returned as it is. An `Authorization` header set by the
   * caller is left alone.
   */
  fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response>;
  /** True while the client holds an access token (the session is believed alive). */
  readonly signedIn: boolean;
  /**
   * Estimated offset of the server's clock from the local one in milliseconds (positive: the
   * server is ahead), from the last token's `iat` or the response's `Date`; null before the
   * first token. Diagnostic: refresh timing uses durations, not this estimate, except for a token
   * response with neither `expires_in` nor `iat`, where only `exp` is known.
   */
  readonly clockSkewMs: number | null;
  /** Calls `listener` whenever `signedIn` changes; returns the unsubscribe function. */
  subscribe(listener: (state: AuthState) => void): () => void;
  /**
   * Stops the refresh timer, leaves the cross-tab channel and hands the leadership of the tabs
   * to the next one.
   */
  close(): void;
}
