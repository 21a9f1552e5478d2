import type { CrossTabLocks, SessionEndReason } from './types';

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
}

/** The session ended in one tab: every tab signs out. */
export interface EndedMessage {
  type: 'ended';
  reason: SessionEndReason;
}

export type CrossTabMessage = TokenMessage | EndedMessage;

/** The tabs of one origin: a lock that serializes refreshes, and a channel between them. */
export interface CrossTab {
  withLock<T>(work: () => Promise<T>): Promise<T>;
  post(message: CrossTabMessage): void;
  close(): void;
}

const PROTOCOL = 'nest-token-auth/1';
const REASONS: readonly string[] = ['logout', 'revoked', 'expired', 'loop'];

/**
 * Joins the other tabs, or returns null when the platform lacks Web Locks or BroadcastChannel
 * (the client then works alone).
 */
export function joinTabs(
  name: string,
  locks: CrossTabLocks | undefined,
  onMessage: (message: CrossTabMessage) => void,
): CrossTab | null {
  const Channel = globalThis.BroadcastChannel as typeof BroadcastChannel | undefined;
  if (!locks || typeof Channel !== 'function') return null;
  const lockName = `auth-refresh:${name}`;
  const channel = new Channel(`auth-session:${name}`);
  // Node: a channel must not keep the process alive.
  (channel as { unref?: () => void }).unref?.();
  channel.onmessage = (event: MessageEvent) => {
    const message = parseMessage(event.data);
    if (message) onMessage(message);
  };
  return {
    withLock: (work) => locks.request(lockName, work),
    post: (message) => channel.postMessage({ protocol: PROTOCOL, ...message }),
    close: () => channel.close(),
  };
}

/** `navigator.locks` where it exists (browsers, Node 24+). */
export function platformLocks(): CrossTabLocks | undefined {
  const navigator = (globalThis as { navigator?: { locks?: CrossTabLocks } }).navigator;
  return navigator?.locks;
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
  };
}

function numberOrNull(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}
