/**
 * When an access token expires and when to refresh it, in local-clock milliseconds.
 *
 * Clock skew: the server's and the device's clocks may disagree by minutes, so the token's `exp`
 * cannot be compared with the local clock. The schedule is built from durations only:
 * `expires_in` (seconds from issue) counted from when the request was sent (the earliest moment
 * the server can have issued the token, so the estimate errs early by the round trip at most),
 * and `exp - iat` (a difference on the server's own clock) as a cross-check; the shorter wins.
 * The offset between the clocks is still estimated, from `iat` (or, without it, the response's
 * `Date`, which has one-second resolution and may come from a proxy, so it is never trusted
 * further) for diagnostics, and for the one case where it is needed: a response without
 * `expires_in` and without `iat`, where only `exp` says anything.
 */
export interface TokenTiming {
  /** Local time at which the token is assumed expired. Null when the response says nothing. */
  expiresAt: number | null;
  /** Local time at which to refresh it. Null when `expiresAt` is null. */
  refreshAt: number | null;
  /** Estimated server clock minus local clock, ms; null when neither `iat` nor `Date` is there. */
  clockSkewMs: number | null;
}

export interface TokenTimingInput {
  accessToken: string;
  expiresIn: unknown;
  /** Local time the request was sent. */
  sentAt: number;
  /** Local time the response arrived. */
  receivedAt: number;
  /** The response's `Date` header. */
  date: string | null;
  refreshAheadMs: number;
}

export function tokenTiming(input: TokenTimingInput): TokenTiming {
  const claims = decodeJwtPayload(input.accessToken);
  const iat = numericClaim(claims?.iat);
  const exp = numericClaim(claims?.exp);
  const midpoint = (input.sentAt + input.receivedAt) / 2;
  const serverDate = input.date ? Date.parse(input.date) : NaN;

  // Both iat and Date are whole seconds: the real instant is up to a second later.
  let clockSkewMs: number | null = null;
  if (iat !== undefined) clockSkewMs = Math.round(iat * 1000 + 500 - midpoint);
  else if (!Number.isNaN(serverDate)) clockSkewMs = Math.round(serverDate + 500 - input.receivedAt);

  const lifetimes: number[] = [];
  if (typeof input.expiresIn === 'number' && Number.isFinite(input.expiresIn)) {
    lifetimes.push(input.expiresIn * 1000);
  }
  if (exp !== undefined && iat !== undefined) lifetimes.push((exp - iat) * 1000);
  let expiresAt: number | null = null;
  if (lifetimes.length > 0) {
    expiresAt = input.sentAt + Math.max(0, Math.min(...lifetimes));
  } else if (exp !== undefined && clockSkewMs !== null) {
    expiresAt = exp * 1000 - clockSkewMs;
  }
  if (expiresAt === null) return { expiresAt: null, refreshAt: null, clockSkewMs };

  const lifetime = Math.max(0, expiresAt - input.sentAt);
  const ahead = Math.min(input.refreshAheadMs, lifetime / 2);
  return { expiresAt, refreshAt: expiresAt - ahead, clockSkewMs };
}

/** The payload of a JWT, decoded without verifying anything (the server verifies). */
function decodeJwtPayload(token: string): Record<string, unknown> | null {
  const part = token.split('.')[1];
  if (!part) return null;
  try {
    const base64 = part.replace(/-/g, '+').replace(/_/g, '/');
    const binary = atob(base64 + '='.repeat((4 - (base64.length % 4)) % 4));
    const bytes = Uint8Array.from(binary, (char) => char.charCodeAt(0));
    const payload: unknown = JSON.parse(new TextDecoder().decode(bytes));
    return payload !== null && typeof payload === 'object' && !Array.isArray(payload)
      ? (payload as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

function numericClaim(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}
