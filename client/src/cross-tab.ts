import type { CrossTabLocks, SessionEndReason } from './types.js';

/** The access token one tab obtained, for the others to adopt. */
export interface TokenMessage {
  type: 'token';
  accessToken: string;
  /** Local-clock times (the tabs of one browser share the clock). */
  expiresAt: number | null;
  refreshAt: number | null;
  sessionId: string | null;
  sessionExpiresAt: number | null;
  clockSkewMs: number | null;
  /**
   * Orders tokens: higher is newer (see `AccessToken.generation` in auth-client.ts). Null from a
   * tab running an older version of the client, which posted none.
   */
  generation: number | null;
}

/** The session ended in one tab: every tab signs out. */
export interface EndedMessage {
  type: 'ended';
  reason: SessionEndReason;
}

export type CrossTabMessage = TokenMessage | EndedMessage;

/** What the tabs tell a client. */
export interface TabEvents {
  /** A message another tab posted. */
  message(message: CrossTabMessage): void;
  /** This tab became the leader (true), or stopped being it (false). */
  leader(leading: boolean): void;
}

/**
 * The tabs of one origin: a lock that serializes refreshes, leader election, and a channel
 * between them.
 */
export interface CrossTab {
  /**
   * Runs `work` under the refresh lock. `contended` is true when another holder had the lock (or
   * was waiting for it) when this tab asked: most likely another tab refreshing, whose new token
   * may reach this tab after the lock does.
   */
  withLock<T>(work: (contended: boolean) => Promise<T>): Promise<T>;
  post(message: CrossTabMessage): void;
  /** Leaves the channel and hands the leadership (or this tab's place in line) on. */
  close(): void;
}

const PROTOCOL = 'nest-token-auth/1';
const REASONS: readonly string[] = ['logout', 'revoked', 'expired', 'loop'];

/** Minimal view of a page's `window` (pagehide / pageshow), absent in Node and workers. */
interface PageEvents {
  addEventListener(type: string, listener: (event: Event) => void): void;
  removeEventListener(type: string, listener: (event: Event) => void): void;
}

/**
 * Joins the other tabs, or returns null when the platform lacks Web Locks or BroadcastChannel
 * (the client then works alone).
 *
 * Leadership: every tab asks for the lock `auth-leader:<name>` at once and, once granted, holds
 * it until `close()`; the others wait in line and the next one is granted it when the leader
 * closes or its page goes away (the browser releases a destroyed page's locks). A page hidden
 * into the back/forward cache gives it up too (a held lock would keep the page out of that
 * cache, and a cached page runs no timers), and asks again when it is shown.
 */
export function joinTabs(
  name: string,
  locks: CrossTabLocks | undefined,
  events: TabEvents,
): CrossTab | null {
  const Channel = globalThis.BroadcastChannel as typeof BroadcastChannel | undefined;
  if (!locks || typeof Channel !== 'function') return null;
  const lockName = `auth-refresh:${name}`;
  const leaderLockName = `auth-leader:${name}`;
  const channel = new Channel(`auth-session:${name}`);
  // Node: a channel must not keep the process alive.
  (channel as { unref?: () => void }).unref?.();
  channel.onmessage = (event: MessageEvent) => {
    const message = parseMessage(event.data);
    if (message) events.message(message);
  };

  let closed = false;
  /** Withdraws this tab's request for leadership while it waits in line. */
  let withdraw: AbortController | null = null;
  /** Releases the leader lock while this tab holds it. */
  let release: (() => void) | null = null;

  const campaign = () => {
    if (closed || withdraw || release) return;
    const controller = typeof AbortController === 'function' ? new AbortController() : null;
    withdraw = controller;
    const options = controller ? { signal: controller.signal } : {};
    locks
      .request(leaderLockName, options, () => {
        if (closed || controller?.signal.aborted) return Promise.resolve();
        return new Promise<void>((resolve) => {
          release = () => {
            release = null;
            resolve();
          };
          events.leader(true);
        });
      })
      // Withdrawn (AbortError), or the platform refused the lock: this tab stays a follower,
      // whose own later refresh keeps it signed in.
      .catch(() => undefined)
      .finally(() => {
        if (withdraw === controller) withdraw = null;
      });
  };

  const abdicate = () => {
    withdraw?.abort();
    withdraw = null;
    if (release) {
      release();
      if (!closed) events.leader(false);
    }
  };

  const page = pageEvents();
  const onPageHide = (event: Event) => {
    if ((event as { persisted?: boolean }).persisted) abdicate();
  };
  const onPageShow = (event: Event) => {
    if ((event as { persisted?: boolean }).persisted) campaign();
  };
  page?.addEventListener('pagehide', onPageHide);
  page?.addEventListener('pageshow', onPageShow);
  campaign();

  return {
    withLock: async <T>(work: (contended: boolean) => Promise<T>): Promise<T> => {
      const attempt = await locks.request<{ value: T } | null>(
        lockName,
        { ifAvailable: true },
        async (lock) => (lock === null ? null : { value: await work(false) }),
      );
      if (attempt !== null) return attempt.value;
      return locks.request(lockName, {}, () => work(true));
    },
    post: (message) => channel.postMessage({ protocol: PROTOCOL, ...message }),
    close: () => {
      if (closed) return;
      closed = true;
      abdicate();
      page?.removeEventListener('pagehide', onPageHide);
      page?.removeEventListener('pageshow', onPageShow);
      channel.close();
    },
  };
}

/** `navigator.locks` where it exists (browsers, Node 24+). */
export function platformLocks(): CrossTabLocks | undefined {
  const navigator = (globalThis as { navigator?: { locks?: CrossTabLocks } }).navigator;
  return navigator?.locks;
}

/** The page's `window` in a browser tab; undefined elsewhere. */
function pageEvents(): PageEvents | undefined {
  const scope = globalThis as Partial<PageEvents> & { document?: unknown };
  return scope.document !== undefined &&
    typeof scope.addEventListener === 'function' &&
    typeof scope.removeEventListener === 'function'
    ? (scope as PageEvents)
    : undefined;
}

/** Messages come from same-origin code only, but are still checked before they are used. */
function parseMessage(data: unknown): CrossTabMessage | null {
  if (data === null || typeof data !== 'object') return null;
  const message = data as Record<string, unknown>;
  if (message.protocol !== PROTOCOL) return null;
  if (message.type === 'ended') {
    return typeof message.reason === 'string' && REASONS.includes(message.reason)
      ? { type: 'ended', reason: message.reason as SessionEndReason }
      : null;
  }
  if (message.type !== 'token' || typeof message.accessToken !== 'string') return null;
  return {
    type: 'token',
    accessToken: message.accessToken,
    expiresAt: numberOrNull(message.expiresAt),
    refreshAt: numberOrNull(message.refreshAt),
    sessionId: typeof message.sessionId === 'string' ? message.sessionId : null,
    sessionExpiresAt: numberOrNull(message.sessionExpiresAt),
    clockSkewMs: numberOrNull(message.clockSkewMs),
    generation: numberOrNull(message.generation),
  };
}

function numberOrNull(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}
