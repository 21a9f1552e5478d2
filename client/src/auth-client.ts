import { type CrossTab, type CrossTabMessage, joinTabs, platformLocks } from './cross-tab.js';
import { AuthError } from './errors.js';
import { isAbsoluteUrl, joinUrl, originOf, wwwAuthenticateError } from './http.js';
import { memoryStorage } from './storage/memory.js';
import { tokenTiming } from './token.js';
import type {
  AuthClient,
  AuthClientOptions,
  AuthSession,
  AuthState,
  AuthUser,
  ClientTimers,
  RefreshTokenStorage,
  SessionEndReason,
  Transport,
} from './types.js';

const DEFAULT_NAME = 'nest-token-auth';
const DEFAULT_REFRESH_AHEAD_SECONDS = 30;
const DEFAULT_MAX_CONSECUTIVE_REFRESHES = 3;
const DEFAULT_RETRY = { initialDelayMs: 500, maxDelayMs: 30_000, maxAttempts: 4 };
/** A token that arrives already due is refreshed after this, not at once (no tight loop). */
const MIN_TIMER_DELAY_MS = 1000;
/** setTimeout's limit; a longer wait is done in several steps. */
const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;
/**
 * How long a tab that waited for the refresh lock waits on for the token the holder posted,
 * before it refreshes itself: lock grants and channel messages come in no fixed order, but the
 * message follows within milliseconds.
 */
const TAB_MESSAGE_WAIT_MS = 500;

/** The access token and what the client knows about it, in local-clock milliseconds. */
interface AccessToken {
  value: string;
  expiresAt: number | null;
  /**
   * When to refresh, for the tab that leads (or a client alone); moved later after a failed
   * round (backoff).
   */
  refreshAt: number | null;
  /**
   * When a tab that does not lead refreshes by itself, if no newer token came from the leader
   * by then (a frozen or discarded leader tab): halfway between `refreshAt` and the expiry.
   */
  fallbackAt: number | null;
  sessionId: string | null;
  /** The session's nearer end (absolute or idle), as of this token. */
  sessionExpiresAt: number | null;
  /**
   * Orders the tokens the tabs pass around, higher is newer: a hybrid logical clock, the local
   * time the request that obtained the token was sent, raised above every generation this tab
   * has seen. Refreshes run one at a time under the lock, so a later refresh has a later time,
   * and the raise keeps it increasing should the clock step back. Null for a token adopted from
   * an older client version.
   */
  generation: number | null;
}

/** The refresh time of a tab that does not lead, from the leader's. */
function fallbackTime(expiresAt: number | null, refreshAt: number | null): number | null {
  if (expiresAt === null || refreshAt === null) return refreshAt;
  return refreshAt + Math.max(0, expiresAt - refreshAt) / 2;
}

/** True when `candidate` replaces `current`: a newer generation (or, lacking one, expiry). */
function isNewerToken(
  candidate: { value: string; expiresAt: number | null; generation: number | null },
  current: AccessToken | null,
): boolean {
  if (current === null) return true;
  if (candidate.value === current.value) return false;
  if (candidate.generation !== null && current.generation !== null) {
    if (candidate.generation !== current.generation) {
      return candidate.generation > current.generation;
    }
    // Two tabs refreshed at the same instant: any fixed rule makes every tab keep the same one.
    return candidate.value > current.value;
  }
  return (
    current.expiresAt === null ||
    candidate.expiresAt === null ||
    candidate.expiresAt > current.expiresAt
  );
}

/** Creates a client of the nest-token-auth service. */
export function createAuthClient(options: AuthClientOptions): AuthClient {
  return new TokenAuthClient(options);
}

/** The origin of the page or worker the client runs in; undefined in Node. */
function pageOrigin(): string | undefined {
  return (globalThis as { location?: { origin?: string } }).location?.origin;
}

const defaultTimers: ClientTimers = {
  setTimeout: (callback, ms) => globalThis.setTimeout(callback, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** The rejection of work begun for a session that ended meanwhile. */
function sessionEndedError(): AuthError {
  return new AuthError('401 The session ended', { status: 401, code: 'session_ended' });
}

/** The refresh answered 401: the session is over (or there was none). */
function isSessionEnded(error: unknown): boolean {
  return error instanceof AuthError && error.status === 401;
}

/** Worth retrying: the network, a timeout, rate limiting, or the server having trouble. */
function isTransient(error: unknown): boolean {
  if (!(error instanceof AuthError)) return true;
  return error.status === 408 || error.status === 429 || error.status >= 500;
}

/**
 * A 401 to a request that carried a token: RFC 6750 `invalid_token`. A 401 whose challenge is
 * unreadable (a cross-origin response that does not expose `WWW-Authenticate`) counts too.
 */
function isRejectedToken(response: Response): boolean {
  if (response.status !== 401) return false;
  const challenge = response.headers.get('www-authenticate');
  return challenge === null || wwwAuthenticateError(challenge) === 'invalid_token';
}

async function discard(response: Response): Promise<void> {
  try {
    await response.body?.cancel();
  } catch {
    // Nothing to free.
  }
}

class TokenAuthClient implements AuthClient {
  private readonly baseUrl: string;
  private readonly transport: Transport;
  private readonly storage: RefreshTokenStorage;
  private readonly fetchImpl: typeof fetch;
  private readonly now: () => number;
  private readonly timers: ClientTimers;
  private readonly refreshAheadMs: number;
  private readonly maxConsecutiveRefreshes: number;
  private readonly retry: { initialDelayMs: number; maxDelayMs: number; maxAttempts: number };
  private readonly tokenOrigins: Set<string>;
  private readonly tabs: CrossTab | null;
  private readonly listeners = new Set<(state: AuthState) => void>();

  private token: AccessToken | null = null;
  private skew: number | null = null;
  /** Increases whenever a session starts or ends: work begun before does not touch the new one. */
  private epoch = 0;
  /** The refresh every caller shares (single flight). */
  private inflight: Promise<AccessToken> | null = null;
  private timer: { handle: unknown } | null = null;
  /** With cross-tab coordination: this tab holds the leader lock and runs the refresh ahead. */
  private leader = false;
  /** The highest token generation this tab has issued or seen. */
  private generation = 0;
  /** Called when the token is replaced or the session ends (tabs waiting for a message). */
  private readonly tokenWaiters = new Set<() => void>();
  /** Refreshes forced by a rejected access token since a request last succeeded (loop cap). */
  private rejectedRefreshes = 0;
  /** A rotated refresh token the storage failed to save: used until a save succeeds. */
  private unsavedRefreshToken: string | null = null;
  /** Serializes token work within this client when there is no cross-tab lock. */
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(private readonly options: AuthClientOptions) {
    if (options.transport !== 'cookie' && options.transport !== 'body') {
      throw new Error(
        `createAuthClient: transport must be 'cookie' or 'body', not ${String(options.transport)}.`,
      );
    }
    const fetchImpl: typeof fetch | undefined = options.fetch ?? globalThis.fetch;
    if (typeof fetchImpl !== 'function') {
      throw new Error('createAuthClient: this platform has no fetch; pass options.fetch.');
    }
    // Called as a plain function: a browser's fetch throws when called as another object's method.
    this.fetchImpl = (input, init) => fetchImpl(input, init);
    this.baseUrl = options.baseUrl;
    this.transport = options.transport;
    this.storage = options.storage ?? memoryStorage();
    this.now = options.now ?? (() => Date.now());
    this.timers = options.timers ?? defaultTimers;
    this.refreshAheadMs =
      Math.max(0, options.refreshAheadSeconds ?? DEFAULT_REFRESH_AHEAD_SECONDS) * 1000;
    this.maxConsecutiveRefreshes = Math.max(
      0,
      options.maxConsecutiveRefreshes ?? DEFAULT_MAX_CONSECUTIVE_REFRESHES,
    );
    this.retry = {
      initialDelayMs: options.retry?.initialDelayMs ?? DEFAULT_RETRY.initialDelayMs,
      maxDelayMs: options.retry?.maxDelayMs ?? DEFAULT_RETRY.maxDelayMs,
      maxAttempts: Math.max(1, options.retry?.maxAttempts ?? DEFAULT_RETRY.maxAttempts),
    };

    const serviceOrigin = originOf(options.baseUrl || '/', pageOrigin());
    this.tokenOrigins = new Set(
      [serviceOrigin, ...(options.apiOrigins ?? []).map((origin) => originOf(origin))].filter(
        (origin): origin is string => origin !== null,
      ),
    );

    const crossTab = options.crossTab ?? options.transport === 'cookie';
    this.tabs = crossTab
      ? joinTabs(options.name ?? DEFAULT_NAME, options.locks ?? platformLocks(), {
          message: (message) => this.onTabMessage(message),
          leader: (leading) => this.onLeadership(leading),
        })
      : null;
  }

  get signedIn(): boolean {
    return this.token !== null;
  }

  get clockSkewMs(): number | null {
    return this.skew;
  }

  async register(input: { email: string; password: string; name?: string }): Promise<AuthUser> {
    const body: Record<string, string> = { email: input.email, password: input.password };
    if (input.name !== undefined) body.name = input.name;
    const response = await this.fetchImpl(this.url('/auth/register'), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!response.ok) throw await this.errorFrom(response);
    return (await response.json()) as AuthUser;
  }

  async login(credentials: { email: string; password: string }): Promise<AuthUser> {
    const body: Record<string, string> = {
      email: credentials.email,
      password: credentials.password,
    };
    if (this.options.device !== undefined) body.device = this.options.device;
    if (this.options.deviceId !== undefined) body.device_id = this.options.deviceId;
    await this.exclusive(async () => {
      const sentAt = this.now();
      const response = await this.fetchImpl(this.url('/auth/login'), this.tokenRequest(body));
      if (!response.ok) throw await this.errorFrom(response);
      this.epoch += 1;
      this.rejectedRefreshes = 0;
      await this.acceptTokens(response, sentAt, this.epoch);
    });
    return this.me();
  }

  async restore(): Promise<AuthUser | null> {
    if (this.token === null) {
      if (this.transport === 'body' && !this.inflight && (await this.readRefreshToken()) === null) {
        return null;
      }
      try {
        await this.refresh();
      } catch (error) {
        if (isSessionEnded(error)) return null;
        throw error;
      }
    }
    return this.me();
  }

  async logout(): Promise<void> {
    const outcome = await this.signOut('logout');
    if (outcome.failed) throw outcome.error;
  }

  async logoutAll(): Promise<void> {
    await this.authorized('/auth/logout-all', { method: 'POST' });
    await this.exclusive(() => this.endSession('logout'));
  }

  async me(): Promise<AuthUser> {
    return (await (await this.authorized('/auth/me')).json()) as AuthUser;
  }

  async sessions(): Promise<AuthSession[]> {
    return (await (await this.authorized('/auth/sessions')).json()) as AuthSession[];
  }

  async revokeSession(id: string): Promise<void> {
    const current = this.token?.sessionId;
    const response = await this.authorized(`/auth/sessions/${encodeURIComponent(id)}`, {
      method: 'DELETE',
    });
    await discard(response);
    if (id === current) await this.exclusive(() => this.endSession('logout'));
  }

  async fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
    const template = new Request(this.resolve(input), init);
    if (template.headers.has('authorization') || !this.carriesToken(template.url)) {
      return this.fetchImpl(template);
    }
    // Buffered before the first attempt, so the request can be sent again after a refresh.
    const body = template.body === null ? null : await template.arrayBuffer();
    const send = (accessToken: string | null) => {
      const headers = new Headers(template.headers);
      if (accessToken !== null) headers.set('Authorization', `Bearer ${accessToken}`);
      return this.fetchImpl(new Request(template, { headers, body }));
    };

    const accessToken = await this.usableAccessToken();
    if (accessToken === null) return send(null);
    const first = await send(accessToken);
    if (!isRejectedToken(first)) {
      this.rejectedRefreshes = 0;
      return first;
    }
    const fresh = await this.tokenAfterRejection(accessToken);
    if (fresh === null) return first;
    await discard(first);
    const second = await send(fresh);
    if (!isRejectedToken(second)) this.rejectedRefreshes = 0;
    return second;
  }

  subscribe(listener: (state: AuthState) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  close(): void {
    this.closed = true;
    this.clearTimer();
    this.tabs?.close();
    this.listeners.clear();
  }

  // --- tokens ---------------------------------------------------------------------------------

  /** The token to send now: refreshed first when expired, refreshed in the background when due. */
  private async usableAccessToken(): Promise<string | null> {
    const token = this.token;
    if (token === null) {
      // A restore() in flight: wait for its outcome rather than send without a token.
      if (!this.inflight) return null;
      try {
        return (await this.inflight).value;
      } catch {
        return this.token?.value ?? null;
      }
    }
    const now = this.now();
    if (token.expiresAt !== null && now >= token.expiresAt) return this.refreshedToken();
    const due = this.dueAt(token);
    if (due !== null && now >= due) this.refreshInBackground();
    return token.value;
  }

  /** The server refused `rejected`: the token to retry with, or null to give up. */
  private async tokenAfterRejection(rejected: string): Promise<string | null> {
    const current = this.token;
    if (current === null) return null;
    if (current.value !== rejected) return current.value; // replaced meanwhile
    if (!this.inflight) {
      if (this.rejectedRefreshes >= this.maxConsecutiveRefreshes) {
        await this.signOut('loop');
        return null;
      }
      this.rejectedRefreshes += 1;
    }
    return this.refreshedToken();
  }

  /** A refreshed access token, or null when the session is over. */
  private async refreshedToken(): Promise<string | null> {
    try {
      return (await this.refresh()).value;
    } catch (error) {
      if (isSessionEnded(error)) return null;
      throw error;
    }
  }

  /**
   * Single flight: every caller until it settles shares one refresh. Across tabs it runs under
   * the lock; a tab that got a newer token from another while waiting for the lock uses that
   * one instead of refreshing (with the cookie transport its own refresh would present an
   * already rotated cookie). When another tab held the lock, its message may come after the
   * lock: the tab waits for it, up to TAB_MESSAGE_WAIT_MS, before refreshing itself.
   */
  private refresh(): Promise<AccessToken> {
    if (this.inflight) return this.inflight;
    const startToken = this.token?.value ?? null;
    const startEpoch = this.epoch;
    const flight: Promise<AccessToken> = this.exclusive(async (contended) => {
      const replaced = this.replacedSince(startToken, startEpoch);
      if (replaced) return replaced;
      if (contended && !this.closed) {
        await this.tokenChange(TAB_MESSAGE_WAIT_MS);
        const arrived = this.replacedSince(startToken, startEpoch);
        if (arrived) return arrived;
      }
      return this.refreshWithBackoff();
    }).finally(() => {
      if (this.inflight === flight) this.inflight = null;
    });
    this.inflight = flight;
    return flight;
  }

  /**
   * The token that replaced `startToken` since a refresh was asked for (another tab's, a new
   * login), or null; rejects when the session ended meanwhile.
   */
  private replacedSince(startToken: string | null, startEpoch: number): AccessToken | null {
    if (this.epoch !== startEpoch && this.token === null) {
      throw sessionEndedError();
    }
    if (this.token !== null && (this.token.value !== startToken || this.epoch !== startEpoch)) {
      return this.token;
    }
    return null;
  }

  /** Resolves when the token is replaced or the session ends, or after `ms`. */
  private tokenChange(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.tokenWaiters.delete(done);
        this.timers.clearTimeout(handle);
        resolve();
      };
      const handle = this.timers.setTimeout(done, ms);
      this.tokenWaiters.add(done);
    });
  }

  private tokenChanged(): void {
    for (const waiter of [...this.tokenWaiters]) waiter();
  }

  private refreshInBackground(): void {
    if (this.inflight || this.closed) return;
    // Failures are reported through onError by the refresh itself.
    this.refresh().catch(() => undefined);
  }

  /** One round: retries transient failures with exponential backoff and jitter. */
  private async refreshWithBackoff(): Promise<AccessToken> {
    const epoch = this.epoch;
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await this.refreshOnce(epoch);
      } catch (error) {
        if (isSessionEnded(error)) throw error;
        const delay = isTransient(error) ? this.backoffDelay(attempt, error) : null;
        if (
          delay === null ||
          attempt >= this.retry.maxAttempts ||
          this.closed ||
          this.epoch !== epoch
        ) {
          this.refreshRoundFailed(error);
          throw error;
        }
        await this.sleep(delay);
        if (this.closed || this.epoch !== epoch) throw error;
      }
    }
  }

  private async refreshOnce(epoch: number): Promise<AccessToken> {
    const body: Record<string, string> = {};
    if (this.transport === 'body') {
      const stored = await this.readRefreshToken();
      if (stored === null) {
        await this.endSession(this.endReason());
        throw new AuthError('401 No refresh token is stored', {
          status: 401,
          code: 'no_refresh_token',
        });
      }
      body.refresh_token = stored;
    }
    if (this.options.deviceId !== undefined) body.device_id = this.options.deviceId;
    const sentAt = this.now();
    const response = await this.fetchImpl(this.url('/auth/refresh'), this.tokenRequest(body));
    if (response.ok) return this.acceptTokens(response, sentAt, epoch);
    const error = await this.errorFrom(response);
    if (response.status === 401 || (response.status === 400 && error.code === 'invalid_grant')) {
      await this.endSession(this.endReason());
      throw new AuthError(error.message, { status: 401, code: error.code });
    }
    throw error;
  }

  /** The delay before attempt `attempt + 1`, or null when `Retry-After` asks for too long. */
  private backoffDelay(attempt: number, error: unknown): number | null {
    const { initialDelayMs, maxDelayMs } = this.retry;
    const ceiling = Math.min(maxDelayMs, initialDelayMs * 2 ** (attempt - 1));
    const jittered = ceiling / 2 + (Math.random() * ceiling) / 2;
    const retryAfter = error instanceof AuthError ? error.retryAfterMs : undefined;
    if (retryAfter === undefined) return jittered;
    return retryAfter > maxDelayMs ? null : Math.max(retryAfter, jittered);
  }

  /** Transient failure: keep the session, tell the app, try again later. */
  private refreshRoundFailed(error: unknown): void {
    this.report(error);
    if (this.token === null || this.closed) return;
    const retryAfter = error instanceof AuthError ? (error.retryAfterMs ?? 0) : 0;
    const next = this.now() + Math.max(this.retry.maxDelayMs, retryAfter);
    this.token.refreshAt = next;
    this.token.fallbackAt = next;
    this.schedule();
  }

  /** Takes a token response: storage first (body transport), then memory, timer, other tabs. */
  private async acceptTokens(response: Response, sentAt: number, epoch: number) {
    const receivedAt = this.now();
    const json = (await response.json()) as Record<string, unknown> | null;
    if (json === null || typeof json !== 'object' || typeof json.access_token !== 'string') {
      throw new AuthError(`${response.status} The token response has no access_token`, {
        status: 502,
      });
    }
    if (this.transport === 'body') {
      await this.saveRefreshToken(
        typeof json.refresh_token === 'string' ? json.refresh_token : null,
      );
    }
    if (epoch !== this.epoch) {
      throw sessionEndedError();
    }
    const timing = tokenTiming({
      accessToken: json.access_token,
      expiresIn: json.expires_in,
      sentAt,
      receivedAt,
      date: response.headers.get('date'),
      refreshAheadMs: this.refreshAheadMs,
    });
    const sessionTtl = json.refresh_token_expires_in;
    this.generation = Math.max(sentAt, this.generation + 1);
    const token: AccessToken = {
      value: json.access_token,
      expiresAt: timing.expiresAt,
      refreshAt: timing.refreshAt,
      fallbackAt: fallbackTime(timing.expiresAt, timing.refreshAt),
      sessionId: typeof json.session_id === 'string' ? json.session_id : null,
      sessionExpiresAt: typeof sessionTtl === 'number' ? sentAt + sessionTtl * 1000 : null,
      generation: this.generation,
    };
    if (timing.clockSkewMs !== null) this.skew = timing.clockSkewMs;
    this.setToken(token, true);
    return token;
  }

  private setToken(token: AccessToken, broadcast: boolean): void {
    const wasSignedIn = this.token !== null;
    this.token = token;
    this.schedule();
    if (broadcast) {
      this.broadcast({
        type: 'token',
        accessToken: token.value,
        expiresAt: token.expiresAt,
        refreshAt: token.refreshAt,
        sessionId: token.sessionId,
        sessionExpiresAt: token.sessionExpiresAt,
        clockSkewMs: this.skew,
        generation: token.generation,
      });
    }
    this.tokenChanged();
    if (!wasSignedIn) this.notify();
  }

  /** Another tab refreshed, logged in, or ended the session. */
  private onTabMessage(message: CrossTabMessage): void {
    if (this.closed) return;
    if (message.type === 'ended') {
      void this.endSession(message.reason, true);
      return;
    }
    if (message.generation !== null) {
      this.generation = Math.max(this.generation, message.generation);
    }
    const token: AccessToken = {
      value: message.accessToken,
      expiresAt: message.expiresAt,
      refreshAt: message.refreshAt,
      fallbackAt: fallbackTime(message.expiresAt, message.refreshAt),
      sessionId: message.sessionId,
      sessionExpiresAt: message.sessionExpiresAt,
      generation: message.generation,
    };
    // A message that took longer than a later one, or an older token than ours: ignored.
    if (!isNewerToken(token, this.token)) return;
    if (message.clockSkewMs !== null) this.skew = message.clockSkewMs;
    this.setToken(token, false);
  }

  /** This tab became the leader of the tabs (or stopped being it): its timer changes. */
  private onLeadership(leading: boolean): void {
    this.leader = leading;
    if (!this.closed) this.schedule();
  }

  /**
   * When this tab refreshes `token` ahead of its expiry: at `refreshAt` when it runs alone or
   * leads the tabs, else later, at `fallbackAt`, should the leader's token not have come.
   */
  private dueAt(token: AccessToken): number | null {
    return this.tabs === null || this.leader ? token.refreshAt : token.fallbackAt;
  }

  // --- session end ----------------------------------------------------------------------------

  /** `POST /auth/logout` (best effort), then the local end; the outcome of the request. */
  private signOut(reason: 'logout' | 'loop'): Promise<{ failed: boolean; error?: unknown }> {
    return this.exclusive(async () => {
      let outcome: { failed: boolean; error?: unknown } = { failed: false };
      try {
        const body: Record<string, string> = {};
        if (this.transport === 'body') {
          const stored = await this.readRefreshToken();
          if (stored !== null) body.refresh_token = stored;
        }
        const response = await this.fetchImpl(
          this.url('/auth/logout'),
          this.tokenRequest(body, this.token?.value),
        );
        // 401: neither token names a live session, so there is nothing left to end.
        if (response.ok || response.status === 401) await discard(response);
        else outcome = { failed: true, error: await this.errorFrom(response) };
      } catch (error) {
        outcome = { failed: true, error };
      }
      await this.endSession(reason);
      return outcome;
    });
  }

  /**
   * Forgets the session: memory, timer, stored refresh token (unless another tab ended it and
   * already did), then tells the other tabs, `onSessionEnded` and subscribers.
   */
  private async endSession(reason: SessionEndReason, fromOtherTab = false): Promise<void> {
    const wasSignedIn = this.token !== null;
    this.epoch += 1;
    this.token = null;
    this.rejectedRefreshes = 0;
    this.clearTimer();
    this.tokenChanged();
    if (!fromOtherTab && this.transport === 'body') {
      this.unsavedRefreshToken = null;
      try {
        await this.storage.clear();
      } catch (error) {
        this.report(error);
      }
    }
    // A restore() that found no session ended nothing; an explicit logout always reports.
    if (!wasSignedIn && (fromOtherTab || reason !== 'logout')) return;
    if (!fromOtherTab) this.broadcast({ type: 'ended', reason });
    const onSessionEnded = this.options.onSessionEnded;
    if (onSessionEnded) this.safely(() => onSessionEnded(reason));
    if (wasSignedIn) this.notify();
  }

  /** `expired` when the refresh was refused after the session's known end, else `revoked`. */
  private endReason(): SessionEndReason {
    const end = this.token?.sessionExpiresAt;
    return end !== null && end !== undefined && this.now() >= end ? 'expired' : 'revoked';
  }

  // --- storage, timers, plumbing --------------------------------------------------------------

  private async readRefreshToken(): Promise<string | null> {
    return this.unsavedRefreshToken ?? (await this.storage.get());
  }

  private async saveRefreshToken(token: string | null): Promise<void> {
    try {
      if (token === null) await this.storage.clear();
      else await this.storage.set(token);
      this.unsavedRefreshToken = null;
    } catch (error) {
      // The old token is rotated already: keep the new one in memory rather than lose it.
      this.unsavedRefreshToken = token;
      this.report(error);
    }
  }

  private schedule(): void {
    this.clearTimer();
    const at = this.token ? this.dueAt(this.token) : null;
    if (this.closed || at === null) return;
    const delay = Math.min(MAX_TIMER_DELAY_MS, Math.max(MIN_TIMER_DELAY_MS, at - this.now()));
    const handle = this.timers.setTimeout(() => this.onTimer(), delay);
    // Node: a pending refresh must not keep a finished script alive; close() is not required.
    (handle as { unref?: () => void } | null)?.unref?.();
    this.timer = { handle };
  }

  private onTimer(): void {
    this.timer = null;
    const at = this.token ? this.dueAt(this.token) : null;
    if (at === null || this.closed) return;
    // Woken early (a wait longer than setTimeout allows): wait on.
    if (this.now() < at - MIN_TIMER_DELAY_MS) this.schedule();
    else this.refreshInBackground();
  }

  private clearTimer(): void {
    if (this.timer) this.timers.clearTimeout(this.timer.handle);
    this.timer = null;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.timers.setTimeout(resolve, ms);
    });
  }

  /**
   * Runs token work alone: under the cross-tab lock, or in this client's queue. `contended`:
   * another tab held the lock when this one asked for it.
   */
  private exclusive<T>(work: (contended: boolean) => Promise<T>): Promise<T> {
    if (this.tabs) return this.tabs.withLock(work);
    const alone = () => work(false);
    const run = this.queue.then(alone, alone);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** A request to `/auth/login`, `/auth/refresh` or `/auth/logout`, which may use the cookie. */
  private tokenRequest(body: Record<string, string>, accessToken?: string): RequestInit {
    const headers: Record<string, string> = { 'Content-Type': 'application/json' };
    if (accessToken !== undefined) headers.Authorization = `Bearer ${accessToken}`;
    if (this.transport === 'cookie') {
      headers['Auth-Transport'] = 'cookie';
      return { method: 'POST', headers, body: JSON.stringify(body), credentials: 'include' };
    }
    return { method: 'POST', headers, body: JSON.stringify(body) };
  }

  /** A bearer request to the service; rejects with AuthError unless it succeeds. */
  private async authorized(path: string, init?: RequestInit): Promise<Response> {
    const response = await this.fetch(this.url(path), init);
    if (!response.ok) throw await this.errorFrom(response);
    return response;
  }

  private url(path: string): string {
    const url = joinUrl(this.baseUrl, path);
    // Checked here, not in the constructor, so that a module creating the client can be
    // imported during server-side rendering.
    if (!isAbsoluteUrl(url) && pageOrigin() === undefined) {
      throw new Error(
        'nest-token-auth client: baseUrl must be an absolute URL (such as https://auth.example.com) outside a browser.',
      );
    }
    return url;
  }

  private resolve(input: RequestInfo | URL): RequestInfo | URL {
    return typeof input === 'string' && !isAbsoluteUrl(input) ? this.url(input) : input;
  }

  private carriesToken(url: string): boolean {
    const origin = originOf(url);
    return origin !== null && this.tokenOrigins.has(origin);
  }

  private errorFrom(response: Response): Promise<AuthError> {
    return AuthError.fromResponse(response, this.now());
  }

  private broadcast(message: CrossTabMessage): void {
    if (!this.tabs || this.closed) return;
    try {
      this.tabs.post(message);
    } catch (error) {
      this.report(error); // the other tabs keep their tokens and refresh on their own
    }
  }

  private notify(): void {
    const state: AuthState = { signedIn: this.signedIn };
    for (const listener of [...this.listeners]) this.safely(() => listener(state));
  }

  private report(error: unknown): void {
    const onError = this.options.onError;
    if (!onError) return;
    try {
      onError(error);
    } catch {
      // An error handler that throws must not break the client.
    }
  }

  private safely(callback: () => void): void {
    try {
      callback();
    } catch (error) {
      this.report(error);
    }
  }
}
